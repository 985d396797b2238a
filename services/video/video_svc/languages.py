"""What the clip pipeline knows about each language it supports beyond transcription.

Whisper transcribes ~99 languages; these rules add what judging and cutting a clip needs: the
hesitation sounds to cut, the openers that mean a sentence continues an earlier thought, the
vague phrases of rambling speech, and the words that make a passage concrete (number words,
months, days, sequence markers of a story). A language without rules still gets clips, judged
by the language-independent signals (embeddings, numbers, names, pace), with a warning.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class LanguageRules:
    code: str
    name: str
    fillers: frozenset[str]  # hesitation sounds, never words with meaning
    connectives: frozenset[str]  # a sentence opening on one continues an earlier thought
    references: frozenset[str]  # an opening pronoun that points at something said before
    vague: tuple[str, ...]  # phrases of rambling speech ("you know", "kind of")
    number_words: frozenset[str]
    time_words: frozenset[str]  # months, days, "yesterday", "ago": anchors of an event
    sequence_words: frozenset[str]  # "then", "later", "finally": the steps of a story
    # Words after which a capitalised word is a place or a person even in German, where every
    # noun is capitalised.
    name_cues: frozenset[str] = frozenset()
    nouns_capitalised: bool = False


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


ENGLISH = LanguageRules(
    code="en",
    name="English",
    fillers=_words("um umm uh uhh uhm erm er err ah ahh hmm hm mm mmm"),
    connectives=_words("and but so because or then also which plus anyway though however"),
    references=_words("it this that they he she these those them there"),
    vague=(
        "you know",
        "i mean",
        "kind of",
        "sort of",
        "or something",
        "and stuff",
        "like i said",
        "whatever",
    ),
    number_words=_words(
        "two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred "
        "thousand million billion half dozen percent"
    ),
    time_words=_words(
        "january february march april may june july august september october november december monday "
        "tuesday wednesday thursday friday saturday sunday yesterday ago morning night summer winter "
        "spring autumn week weeks month months year years"
    ),
    sequence_words=_words("then later after afterwards finally suddenly eventually until when before next"),
)

SPANISH = LanguageRules(
    code="es",
    name="Spanish",
    fillers=_words("eh ehh emm mmm hmm"),
    connectives=_words("y pero entonces porque o también además aunque sino pues luego"),
    references=_words("eso esto ello ellos ellas él ella estos esas esos aquello"),
    vague=("o sea", "digamos", "más o menos", "no sé", "tipo de", "o algo así", "y tal", "bueno pues"),
    number_words=_words(
        "dos tres cuatro cinco seis siete ocho nueve diez once doce veinte treinta cuarenta cincuenta "
        "cien ciento mil millón millones mitad docena porcentaje"
    ),
    time_words=_words(
        "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre lunes "
        "martes miércoles jueves viernes sábado domingo ayer hace mañana noche verano invierno primavera "
        "otoño semana semanas mes meses año años"
    ),
    sequence_words=_words("luego después entonces finalmente hasta cuando antes siguiente pronto"),
    name_cues=_words("en de a desde con"),
)

GERMAN = LanguageRules(
    code="de",
    name="German",
    fillers=_words("äh ähm äähm öh hm hmm mhm ehm"),
    connectives=_words("und aber also denn oder dann auch außerdem obwohl sondern trotzdem"),
    references=_words("es das dies diese dieser dieses sie er"),
    vague=("weißt du", "irgendwie", "sozusagen", "oder so", "und so", "na ja", "halt so", "quasi"),
    number_words=_words(
        "zwei drei vier fünf sechs sieben acht neun zehn elf zwölf zwanzig dreißig vierzig fünfzig "
        "hundert tausend million millionen hälfte dutzend prozent"
    ),
    time_words=_words(
        "januar februar märz april mai juni juli august september oktober november dezember montag "
        "dienstag mittwoch donnerstag freitag samstag sonntag gestern vor morgen nacht sommer winter "
        "frühling herbst woche wochen monat monate jahr jahre jahren"
    ),
    sequence_words=_words("dann später danach schließlich plötzlich endlich bis als bevor nächsten"),
    name_cues=_words("in nach aus von bei mit namens heißt"),
    nouns_capitalised=True,
)

FRENCH = LanguageRules(
    code="fr",
    name="French",
    fillers=_words("euh heu hum hmm bah mmm"),
    connectives=_words("et mais donc car ou puis aussi alors pourtant cependant sinon"),
    references=_words("ça cela ceci ils elles il elle ces ceux celles"),
    vague=("tu vois", "vous voyez", "en fait", "genre", "quoi", "un peu", "je sais pas", "ou quelque chose"),
    number_words=_words(
        "deux trois quatre cinq six sept huit neuf dix onze douze vingt trente quarante cinquante cent "
        "mille million millions moitié douzaine pourcent"
    ),
    time_words=_words(
        "janvier février mars avril mai juin juillet août septembre octobre novembre décembre lundi mardi "
        "mercredi jeudi vendredi samedi dimanche hier matin nuit été hiver printemps automne semaine "
        "semaines mois an ans année années"
    ),
    sequence_words=_words("puis ensuite après finalement soudain enfin jusqu quand avant lendemain"),
    name_cues=_words("à en de chez avec"),
)

PORTUGUESE = LanguageRules(
    code="pt",
    name="Portuguese",
    fillers=_words("ã ãh hã éé hum hmm mmm ahn"),
    connectives=_words("e mas então porque ou também além embora senão pois depois"),
    references=_words("isso isto aquilo eles elas ele ela esses essas estes"),
    vague=("sabe", "tipo", "meio que", "sei lá", "ou algo assim", "né", "e tal", "quer dizer"),
    number_words=_words(
        "dois duas três quatro cinco seis sete oito nove dez onze doze vinte trinta quarenta cinquenta "
        "cem cento mil milhão milhões metade dúzia porcento"
    ),
    time_words=_words(
        "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro "
        "segunda terça quarta quinta sexta sábado domingo ontem atrás manhã noite verão inverno "
        "primavera outono semana semanas mês meses ano anos"
    ),
    sequence_words=_words("depois então finalmente até quando antes seguinte logo de repente"),
    name_cues=_words("em de para com"),
)

RULES: dict[str, LanguageRules] = {r.code: r for r in (ENGLISH, SPANISH, GERMAN, FRENCH, PORTUGUESE)}

# A language the rules do not cover: only language-independent signals judge it.
GENERIC = LanguageRules(
    code="",
    name="",
    fillers=ENGLISH.fillers & frozenset({"um", "uh", "hmm", "mmm"}),  # universal enough
    connectives=frozenset(),
    references=frozenset(),
    vague=(),
    number_words=frozenset(),
    time_words=frozenset(),
    sequence_words=frozenset(),
)


def rules_for(code: str) -> LanguageRules | None:
    """The rules of a language (ISO 639-1, any case, region suffix ignored); None when not covered."""
    return RULES.get(code.strip().lower().split("-")[0].split("_")[0])


_APOSTROPHE = "\u2019"  # typographic apostrophe, as some transcripts spell "don't"
_NOT_WORD = re.compile(rf"[^\w'{_APOSTROPHE}]+")


def fold(text: str) -> str:
    """A word as the word lists spell it: lowercase, NFC, surrounding punctuation stripped."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFC", text).lower()).replace(_APOSTROPHE, "'")
