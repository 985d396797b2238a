"""Labelled talks for bench/clip_judgement.py: does the clip job pick the strong moments?

Each talk is one language and one espeak-ng voice, six or seven passages of 55-80 words (~20-30 s of
speech each), written for this bench and labelled by reading them. The stories are invented:
the names, places and figures make them concrete, not true.

- ``strong``: one self-contained story (who, where, when, how many; setup, turn, outcome) with
  none of the curiosity words a hype-word scorer rewards (``HYPE_WORDS``).
- ``meta``: housekeeping (can you hear me, screen sharing, slides, recording, breaks, Q&A).
- ``stuffed``: the same housekeeping stuffed with hype words ("the best secret of the agenda is the
  coffee break"): the trap for a scorer that counts words instead of reading.
- ``ramble``: filler and disfluencies with nothing specific in them.

Talk ``<lang>-1`` holds 3 strong passages and one weak passage of each kind; ``<lang>-2`` holds
3 strong, 1 meta, 2 stuffed and 1 ramble. Every talk has 3 strong passages, so 3 clips can all be
strong. Each talk spells its own interleaved order, so strong
passages sit at the start, the middle and the end in different talks, next to stuffed ones or not
(a scorer's taste for a position does not pass for judgement).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

STRONG, META, STUFFED, RAMBLE = "strong", "meta", "stuffed", "ramble"
LABELS = (STRONG, META, STUFFED, RAMBLE)
MIN_WORDS, MAX_WORDS = 55, 80

# Words (lowercase prefixes of a word, matched at its start) that strong passages must avoid and
# stuffed passages must be full of.
HYPE_WORDS = {
    "en": ["secret", "never", "best", "why", "most important", "first", "lesson", "mistake", "truth",
           "imagine", "ultimate", "biggest"],
    "es": ["secreto", "nunca", "mejor", "por qué", "lo más importante", "primer", "lección", "error",
           "verdad", "imagina", "definitivo"],
    "de": ["geheimnis", "niemals", "beste", "warum", "das wichtigste", "erste", "lektion", "fehler",
           "wahrheit", "stellt euch vor", "ultimative"],
    "fr": ["secret", "jamais", "meilleur", "pourquoi", "le plus important", "premi", "leçon", "erreur",
           "vérité", "imaginez", "ultime"],
    "pt": ["segredo", "nunca", "melhor", "por quê", "porquê", "o mais importante", "primeir", "lição",
           "erro", "verdade", "imagin", "definitivo"],
}  # fmt: skip


@dataclass(frozen=True)
class Talk:
    id: str
    language: str  # ISO 639-1, what the transcript should be detected as
    voice: str  # espeak-ng -v (language voice, optionally +variant)
    speed: int  # espeak-ng -s, words per minute
    pitch: int  # espeak-ng -p, 0-99 (50 is espeak's default)
    segments: tuple[tuple[str, str], ...]  # (label, text), in spoken order


def _talk(
    id: str,
    language: str,
    voice: str,
    speed: int,
    pitch: int,
    order: str,
    *,
    strong: list[str],
    meta: list[str],
    stuffed: list[str],
    ramble: list[str],
) -> Talk:
    """``order`` spells the spoken order, one letter per passage: S strong, m meta, b stuffed
    (bait), r ramble; each kind's passages are taken in the order they are listed."""
    kinds = {"S": (STRONG, iter(strong)), "m": (META, iter(meta)), "b": (STUFFED, iter(stuffed)),
             "r": (RAMBLE, iter(ramble))}  # fmt: skip
    segments = tuple((kinds[c][0], next(kinds[c][1])) for c in order)
    if len(segments) != len(strong) + len(meta) + len(stuffed) + len(ramble):
        raise ValueError(f"{id}: order {order!r} leaves passages out")
    return Talk(id, language, voice, speed, pitch, segments)


# ---------------------------------------------------------------------------------------------- en

EN_1 = _talk(
    "en-1", "en", "en-us+m3", 160, 50, "mSbSrS",
    strong=[
        "In October 2017, Priya Raman ran the night shift at a parcel depot outside Leicester. The "
        "conveyor sorter jammed about forty times a week, and every jam cost twenty minutes. She filmed "
        "the belt for three nights and noticed that the jams only happened when boxes from one supplier "
        "arrived wet. The depot asked that supplier to wrap its pallets in plastic. By December the jams "
        "had fallen to four a week.",
        "Tomás Herrera opened a bicycle repair shop in Tucson in 2014 with a loan of nine thousand "
        "dollars. For two years he barely covered the rent. Then the city painted forty miles of new bike "
        "lanes, and students from the university started riding to class. He added a quick tune-up for "
        "eighteen dollars on Mondays. Within one semester, his Mondays brought in more money than the "
        "whole weekend put together.",
        "In 2009 the public library in Fargo, North Dakota, lent out about three hundred laptops a year. "
        "The head librarian, Karen Olson, moved the checkout desk from the basement to the front door, "
        "right beside the bus stop. Nothing else changed. The next year the library lent almost two "
        "thousand laptops, and most borrowers said they had walked past the building for years without "
        "knowing the service existed.",
    ],
    meta=[
        "Okay, can everyone hear me at the back? Let me just share my screen. Hang on, it's showing the "
        "wrong window. Is that the slides now? Can someone in the chat confirm they can see the title "
        "slide? Great. So, quick housekeeping: the session is being recorded, the recording goes out by "
        "email tomorrow, and we'll take a short break at eleven. Questions go in the Q and A box, please, "
        "not in the chat.",
    ],
    stuffed=[
        "Alright, the most important thing first, and never forget this: the best secret of today's "
        "agenda is the coffee break at ten thirty. Why? Because that's the lesson nobody tells you. The "
        "biggest mistake is skipping it. Imagine missing the truth about the slides, which, honestly, are "
        "on the shared drive anyway. So the one secret you need: the recording link comes tomorrow. "
        "That's the ultimate hack.",
    ],
    ramble=[
        "So, um, yeah, where was I. I mean, it's kind of, you know, a thing that happens, right? Like, "
        "sometimes stuff just sort of works and sometimes it doesn't, and, uh, that's, I guess, that's "
        "kind of the point. Or part of it, anyway. You know what I mean. It's, um, it's a whole thing, "
        "really. Yeah. Anyway, so, yeah, let's, uh, keep going, I suppose.",
    ],
)  # fmt: skip

EN_2 = _talk(
    "en-2", "en", "en-gb+f2", 150, 60, "bSmSrSb",
    strong=[
        "In the summer of 1996 a fisherman called Ewan MacLeod found that lobster catches around the "
        "Isle of Harris had halved in three seasons. He persuaded eleven other boats to notch the tail of "
        "every female carrying eggs and throw her back. The buyers in Stornoway laughed at them for a "
        "year. By 2001 the notched lobsters were breeding again, and the group was landing more than any "
        "other fleet on the west coast.",
        "Last March, our team in Rotterdam shipped an update that doubled the app's start-up time on older "
        "Android phones. Support tickets went from thirty a day to four hundred within a weekend. Marieke "
        "de Vries traced it to a font file that was loaded before the login screen. She moved one line of "
        "code, and by Tuesday morning the start-up time was back under two seconds and the tickets had "
        "stopped.",
        "In October 2014 a baker called Priya Shah opened a tiny shop on Leith Walk in Edinburgh with two "
        "ovens and a loan of nine thousand pounds. For six months she sold barely forty loaves a day. Then "
        "she began leaving the day's unsold bread at the shelter on Duke Street every evening. A local "
        "reporter wrote about it, and within a month the queue reached the corner. Today she runs three "
        "shops and employs twenty-two people.",
    ],
    meta=[
        "Right, sorry, I think my microphone dropped out for a moment there. Can you hear me now? Okay, "
        "good. Where was I? Let me go back two slides. No, one more. There we go. Just a reminder that "
        "the handouts are in the folder linked below, and we'll stop for lunch at half twelve. If you "
        "joined late, the opening part is in the recording, so don't worry about that.",
    ],
    stuffed=[
        "Now, the secret nobody tells you about this room: the best seats are at the back, near the "
        "sockets. Never sit by the door, that's the mistake everyone makes. Why? Imagine the truth: the "
        "most important lesson of today is where you plug in your laptop. So, first things first, the "
        "Wi-Fi password is on the whiteboard, and that's the ultimate secret of the whole agenda.",
        "Before we start, the most important announcement, and this is the truth: never, ever leave "
        "without signing the attendance sheet. Why? Because the biggest secret of this workshop is the "
        "certificate. That's the first lesson and the best tip you'll get today. Imagine forgetting it. "
        "The mistake is thinking it's optional. So, the sheet is by the door, and the slides come after "
        "the break.",
    ],
    ramble=[
        "Yeah, so, basically, it's, uh, it's one of those things, isn't it? You kind of look at it and "
        "you think, well, hmm, okay. And then, I don't know, it sort of goes on from there, more or less. "
        "I mean, people have their views and that's fine, obviously. It's, um, it's complicated, a bit. "
        "Sort of. Right, so, yeah, that's more or less where we are, really.",
    ],
)  # fmt: skip

# ---------------------------------------------------------------------------------------------- es

ES_1 = _talk(
    "es-1", "es", "es", 160, 50, "SbSmrS",
    strong=[
        "En abril de 2015, Lucía Fernández abrió una panadería en un barrio de Valencia donde ya había "
        "otras tres. Durante seis meses vendió menos de cien barras al día. Entonces empezó a hornear a "
        "las cinco de la tarde, para la gente que volvía del trabajo. En Navidad ya vendía seiscientas "
        "barras diarias, y las otras panaderías del barrio copiaron su horario al año siguiente.",
        "En 2018, la enfermera Carmen Ruiz notó que en su centro de salud de Sevilla los pacientes "
        "esperaban casi tres horas por una receta repetida. Propuso que las recetas de los enfermos "
        "crónicos se renovaran por teléfono cada lunes. Su jefe dudó durante dos meses. En septiembre lo "
        "probaron con doscientos pacientes, y la sala de espera pasó de sesenta personas por mañana a "
        "veinticinco.",
        "En marzo de 2020, la librería de Marta Ibáñez en Zaragoza tuvo que cerrar de un día para otro. "
        "Tenía cuatro mil libros en el almacén y dos meses de alquiler pendientes. Marta empezó a leer en "
        "directo el comienzo de una novela cada noche desde el móvil, y los vecinos le pedían el libro por "
        "mensaje. En mayo había repartido en bicicleta más de mil doscientos pedidos.",
    ],
    meta=[
        "Vale, ¿me escucháis bien los del fondo? Voy a compartir la pantalla. Un momento, que se me ha "
        "abierto otra ventana. ¿Ya se ven las diapositivas? Que alguien me lo confirme en el chat, por "
        "favor. Bien. Os recuerdo que la sesión se está grabando y que la grabación os llegará mañana por "
        "correo. Haremos una pausa a las once, y las preguntas, en la caja de preguntas, no en el chat.",
    ],
    stuffed=[
        "Lo más importante, y esto nunca lo olvidéis: el mayor secreto de la agenda de hoy es que la "
        "pausa del café es a las diez y media. ¿Por qué? Porque es la lección que nadie os cuenta. El peor "
        "error es saltársela. Imaginad perderos la verdad sobre las diapositivas, que, por cierto, están en "
        "la carpeta compartida. Ese es el secreto definitivo, el mejor truco de todos.",
    ],
    ramble=[
        "Bueno, pues, eh, ¿dónde estaba? O sea, es como, no sé, una cosa que pasa, ¿sabes? A veces las "
        "cosas funcionan y a veces no, y, eh, bueno, eso es un poco, digamos, la idea. O parte de la idea, "
        "vamos. Tú ya me entiendes. Es, em, es todo un tema, la verdad. Sí. En fin, pues nada, vamos a, "
        "eh, a seguir, supongo.",
    ],
)  # fmt: skip

ES_2 = _talk(
    "es-2", "es", "es-419+m3", 168, 45, "SmbSrSb",
    strong=[
        "Andrés Gutiérrez pescaba atún en Barbate con su padre desde los catorce años. En 2008 el precio "
        "cayó tanto que vendían el pescado por debajo de lo que costaba el gasóleo. Andrés empezó a llevar "
        "las piezas directamente a tres restaurantes de Cádiz, sin intermediarios. Al principio solo le "
        "compraba uno. Tres años después abastecía a veintisiete restaurantes y había contratado a dos "
        "sobrinos.",
        "Un pueblo de Teruel de trescientos vecinos se quedó sin escuela en 2011, porque solo quedaban "
        "cuatro niños. El alcalde, Julián Moreno, ofreció casas vacías por un alquiler de cien euros a "
        "quien abriera un negocio. Llegaron once familias de Madrid, de Bogotá y de Rosario. Una montó un "
        "taller de bicicletas y otra una escuela de música. En 2016 la escuela del pueblo reabrió con "
        "veintidós alumnos.",
        "En marzo de 2017, Lucía Ortega, maestra en un pueblo de Cuenca, vio que sus alumnos de once años "
        "no leían ni un libro al mes. Montó una pequeña biblioteca en el autobús escolar con sesenta novelas "
        "donadas por los vecinos. Cada mañana, durante los cuarenta minutos del trayecto, los niños elegían "
        "un libro. En junio habían leído más de trescientos, y el ayuntamiento pagó otros dos autobuses "
        "iguales para los pueblos de la sierra.",
    ],
    meta=[
        "Perdón, creo que se me ha cortado el micrófono un momento. ¿Ahora me oís? Vale, bien. ¿Por dónde "
        "iba? Dejadme volver dos diapositivas atrás. No, una más. Ahí está. Solo os recuerdo que los "
        "materiales están en la carpeta del enlace de abajo y que pararemos para comer a las dos. Si "
        "habéis llegado tarde, lo del principio está en la grabación, así que tranquilos.",
    ],
    stuffed=[
        "Antes de empezar, el secreto mejor guardado de esta sala: los mejores asientos son los del fondo, "
        "junto a los enchufes. Nunca os sentéis al lado de la puerta, ese es el error de siempre. ¿Por "
        "qué? Imaginad la verdad: la lección más importante de hoy es dónde cargar el portátil. Lo primero "
        "es lo primero: la contraseña del wifi está en la pizarra, y ese es todo el secreto.",
        "Primero, lo más importante de todo, y os digo la verdad: nunca os vayáis sin firmar la hoja de "
        "asistencia. ¿Por qué? Porque el gran secreto de este taller es el certificado. Es la primera "
        "lección y el mejor consejo del día. Imaginad olvidarla. El error es pensar que es opcional. Así "
        "que la hoja está junto a la puerta, y las diapositivas las mando después de la pausa.",
    ],
    ramble=[
        "Sí, bueno, básicamente es, eh, es una de esas cosas, ¿no? Lo miras y piensas, bueno, vale, mmm. "
        "Y luego, no sé, sigue un poco a partir de ahí, más o menos. O sea, cada uno tiene su opinión y "
        "eso está bien, claro. Es, em, es un poco complicado. Más o menos. Bueno, pues, eso, que más o "
        "menos estamos ahí, digamos, y ya está.",
    ],
)  # fmt: skip

# ---------------------------------------------------------------------------------------------- de

DE_1 = _talk(
    "de-1", "de", "de", 155, 50, "SrbSmS",
    strong=[
        "Im Herbst 2016 übernahm Katrin Vogel die kleine Molkerei ihres Vaters im Allgäu. Die Supermärkte "
        "zahlten nur noch achtundzwanzig Cent pro Liter, und jeden Monat fehlten ihr dreitausend Euro. Sie "
        "stellte einen Milchautomaten an die Landstraße nach Kempten. Anfangs kamen zehn Leute am Tag. "
        "Zwei Jahre später standen dort vier Automaten, und sie verkaufte den Liter für einen Euro "
        "zwanzig.",
        "Jonas Becker fuhr 2019 in Leipzig Bus und ärgerte sich, dass die Linie 74 morgens immer zwölf "
        "Minuten Verspätung hatte. Er notierte drei Wochen lang jede Ampel auf der Strecke. An einer "
        "einzigen Kreuzung stand sein Bus jedes Mal vier Minuten. Er schickte seine Liste an das "
        "Verkehrsamt. Die Stadt änderte die Ampelschaltung im Februar, und seitdem kommt die Linie fast "
        "immer pünktlich an.",
        "Im Januar 2011 hatte das kleine Stadtmuseum in Görlitz genau einhundertvierzig Besucher. Die "
        "Leiterin, Sabine Krüger, lud Schulklassen ein, alte Fotos aus ihren Familien mitzubringen. Die "
        "Kinder schrieben zu jedem Foto eine kurze Geschichte. Daraus wurde eine Ausstellung mit "
        "vierhundert Bildern. Im Sommer standen die Leute bis auf die Straße, und das Museum verlängerte "
        "die Schau um ein ganzes Jahr.",
    ],
    meta=[
        "Okay, hört ihr mich da hinten? Ich teile mal kurz meinen Bildschirm. Moment, das ist das falsche "
        "Fenster. Seht ihr jetzt die Folien? Kann jemand im Chat kurz bestätigen, dass die Titelfolie zu "
        "sehen ist? Super. Also, ein paar organisatorische Dinge: Die Sitzung wird aufgezeichnet, die "
        "Aufnahme kommt morgen per Mail, und um elf machen wir eine kurze Pause. Fragen bitte in das "
        "Fragenfeld, nicht in den Chat.",
    ],
    stuffed=[
        "Das Wichtigste zuerst, und vergesst das niemals: Das beste Geheimnis der heutigen Agenda ist die "
        "Kaffeepause um halb elf. Warum? Weil das die Lektion ist, die euch keiner verrät. Der größte "
        "Fehler ist, sie ausfallen zu lassen. Stellt euch vor, ihr verpasst die Wahrheit über die Folien, "
        "die übrigens im gemeinsamen Ordner liegen. Das ist das ultimative Geheimnis, der beste Trick "
        "überhaupt.",
    ],
    ramble=[
        "Also, äh, ja, wo war ich. Ich meine, das ist halt so, na ja, so eine Sache, weißt du? Manchmal "
        "klappt das irgendwie und manchmal halt nicht, und, ähm, das ist so, sag ich mal, so ein bisschen "
        "der Punkt. Oder ein Teil davon, jedenfalls. Du weißt schon, was ich meine. Das ist, äh, das ist "
        "echt so ein Thema. Ja. Egal, also, ja, machen wir mal, äh, weiter, oder so.",
    ],
)  # fmt: skip

DE_2 = _talk(
    "de-2", "de", "de+f2", 165, 40, "bSbmSrS",
    strong=[
        "Mehmet Yilmaz eröffnete 2013 in Dortmund eine Schneiderei mit zwei Nähmaschinen. Das Geschäft "
        "lief schlecht, bis ein Fußballverein aus der Nachbarschaft zwanzig zerrissene Trikots vor einem "
        "Pokalspiel reparieren lassen wollte. Mehmet nähte die ganze Nacht. Der Trainer erzählte es "
        "weiter, und innerhalb eines Jahres flickte er die Ausrüstung von sechzehn Vereinen. Heute "
        "arbeiten bei ihm acht Leute.",
        "Im Winter 2021 fiel in einem Dorf bei Passau drei Tage lang der Strom aus. Der Elektriker Florian "
        "Huber hatte auf seiner Scheune Solarzellen und einen großen Akku. Er legte Kabel zum "
        "Gemeindehaus, damit dort die Heizung lief. Über sechzig Nachbarn schliefen zwei Nächte auf "
        "Feldbetten. Im Frühjahr beschloss der Gemeinderat, auf jedem öffentlichen Dach im Ort "
        "Solaranlagen zu bauen.",
        "Im Mai 2018 eröffnete Ahmet Yilmaz in Bremen eine kleine Fahrradwerkstatt in einer alten Garage. "
        "Die Miete betrug achthundert Euro, und drei Monate lang kamen kaum Kunden. Dann bot er jeden "
        "Samstag einen kostenlosen Reparaturkurs für Schüler an. Zwölf Jugendliche kamen zum Auftakt, im "
        "Herbst waren es sechzig. Heute arbeiten vier seiner früheren Schüler bei ihm, und die Werkstatt "
        "repariert jede Woche über zweihundert Räder für Familien aus dem ganzen Viertel.",
    ],
    meta=[
        "Entschuldigung, ich glaube, mein Mikrofon war gerade kurz weg. Hört ihr mich jetzt? Gut. Wo war "
        "ich stehen geblieben? Ich gehe mal zwei Folien zurück. Nein, noch eine. So, da sind wir. Nur zur "
        "Erinnerung: Die Unterlagen liegen im Ordner unter dem Link, und um halb eins gibt es "
        "Mittagessen. Wer später dazugekommen ist, findet den Anfang in der Aufzeichnung, also keine "
        "Sorge.",
    ],
    stuffed=[
        "Bevor wir anfangen, das Wichtigste, und das ist die Wahrheit: Geht niemals, ohne euch in die "
        "Anwesenheitsliste einzutragen. Warum? Weil das große Geheimnis dieses Workshops das Zertifikat "
        "ist. Das ist die erste Lektion und der beste Tipp des Tages. Stellt euch vor, ihr vergesst es. "
        "Der Fehler ist zu glauben, es sei freiwillig. Die Liste liegt an der Tür, die Folien schicke ich "
        "nach der Pause.",
        "Noch ein Geheimnis zu diesem Raum: Die besten Plätze sind hinten bei den Steckdosen. Setzt euch "
        "niemals an die Tür, das ist der klassische Fehler. Warum? Stellt euch die Wahrheit vor: Die "
        "wichtigste Lektion des Tages ist, wo ihr euren Laptop einsteckt. Also, das Erste zuerst: Das "
        "WLAN-Passwort steht an der Tafel, und das ist das ganze Geheimnis der Agenda. Ehrlich, das "
        "Wichtigste überhaupt.",
    ],
    ramble=[
        "Ja, also, im Grunde ist das, äh, so eins von diesen Dingen, ne? Man guckt sich das an und denkt, "
        "hm, okay, na gut. Und dann, keine Ahnung, geht das halt irgendwie so weiter, mehr oder weniger. "
        "Ich meine, jeder sieht das ein bisschen anders, und das ist ja auch okay. Das ist, ähm, schon "
        "etwas kompliziert. Irgendwie. Ja, also, so ungefähr stehen wir da jetzt, sag ich mal.",
    ],
)  # fmt: skip

# ---------------------------------------------------------------------------------------------- fr

FR_1 = _talk(
    "fr-1", "fr", "fr-fr", 160, 50, "rSmSbS",
    strong=[
        "En mai 2014, Claire Dubois a repris la quincaillerie de son oncle à Clermont-Ferrand. Les grandes "
        "surfaces vendaient les mêmes vis deux fois moins cher, et elle perdait mille euros par mois. Elle "
        "a installé un atelier au fond du magasin, où les clients pouvaient réparer leurs meubles le "
        "samedi. Au bout d'un an, l'atelier affichait complet six semaines à l'avance, et la boutique "
        "était rentable.",
        "Karim Benali conduisait un taxi à Marseille depuis vingt ans quand, en 2017, les applications lui "
        "ont fait perdre un tiers de ses courses. Il a remarqué que les personnes âgées du quartier de la "
        "Belle de Mai n'utilisaient pas de smartphone. Il a déposé des cartes avec son numéro dans trois "
        "pharmacies. Deux ans plus tard, il avait quatre-vingts clients réguliers et avait embauché son "
        "cousin.",
        "En 2010, le collège d'une petite ville des Vosges comptait à peine deux cents élèves et devait "
        "fermer. La principale, Hélène Marchand, a monté une classe de menuiserie avec l'entreprise de "
        "meubles du village. Les élèves ont fabriqué les bancs de la place du marché. La presse régionale "
        "en a parlé, des familles sont venues de Nancy, et le collège a ouvert une classe de plus en "
        "2013.",
    ],
    meta=[
        "Bon, est-ce que vous m'entendez bien au fond? Je vais partager mon écran. Attendez, ce n'est pas "
        "la bonne fenêtre. Est-ce que vous voyez les diapositives maintenant? Quelqu'un peut confirmer "
        "dans le chat? Parfait. Alors, quelques points pratiques: la séance est enregistrée, "
        "l'enregistrement vous sera envoyé demain par mail, et on fera une petite pause à onze heures. Les "
        "questions, dans la zone de questions, s'il vous plaît.",
    ],
    stuffed=[
        "Le plus important d'abord, et ne l'oubliez jamais: le meilleur secret du programme d'aujourd'hui, "
        "c'est la pause café à dix heures et demie. Pourquoi? Parce que c'est la leçon que personne ne "
        "vous donne. La plus grosse erreur, c'est de la sauter. Imaginez rater la vérité sur les "
        "diapositives, qui sont d'ailleurs dans le dossier partagé. Voilà le secret ultime, la meilleure "
        "astuce de toutes.",
    ],
    ramble=[
        "Alors, euh, bon, où j'en étais. Enfin, c'est un peu, tu vois, un truc qui arrive, quoi. Des fois "
        "ça marche et des fois non, et, euh, voilà, c'est un peu, disons, l'idée. Ou une partie de l'idée, "
        "en tout cas. Tu vois ce que je veux dire. C'est, euh, c'est tout un truc, franchement. Ouais. "
        "Bref, donc, ouais, on va, euh, continuer, je suppose, hein.",
    ],
)  # fmt: skip

FR_2 = _talk(
    "fr-2", "fr", "fr-fr+m3", 150, 55, "SbrSmbS",
    strong=[
        "Au printemps 2019, l'ingénieure Amélie Roux a découvert que le réseau d'eau de Rennes perdait près "
        "de vingt pour cent de son eau dans des fuites. Elle a fait poser trois cents capteurs acoustiques "
        "sur les vieilles canalisations du centre. En six mois, les équipes ont réparé cent douze fuites, "
        "et la ville a économisé l'équivalent de la consommation de quatre mille foyers.",
        "Louis Garnier tenait une petite fromagerie à Lyon. Pendant l'hiver 2015, un restaurant de la rue "
        "Mercière lui a commandé un comté affiné trente mois pour un dîner de deux cents couverts. Il n'en "
        "avait que la moitié. Il a appelé un producteur du Jura à minuit et a fait la route dans la nuit. "
        "Le lendemain, le chef a mis son nom sur la carte, et il le fournit encore aujourd'hui.",
        "En septembre 2015, Claire Dubois, infirmière à Lyon, remarqua que les patients âgés de son service "
        "oubliaient souvent leurs médicaments après leur sortie. Elle appela chaque soir dix d'entre eux "
        "pendant deux mois, avec une liste de trois questions. Le nombre de retours aux urgences passa de "
        "vingt par mois à six. L'hôpital forma ensuite quarante infirmières à sa méthode, et la région "
        "l'adopta dans onze établissements en 2018.",
    ],
    meta=[
        "Pardon, je crois que mon micro a coupé un instant. Vous m'entendez maintenant? D'accord. Où est-ce "
        "que j'en étais? Je reviens deux diapositives en arrière. Non, encore une. Voilà. Je vous rappelle "
        "que les documents sont dans le dossier du lien ci-dessous, et qu'on s'arrête pour déjeuner à midi "
        "et demi. Si vous êtes arrivés en retard, le début est dans l'enregistrement, donc pas de souci.",
    ],
    stuffed=[
        "Avant de commencer, le plus important, et c'est la vérité: ne partez jamais sans signer la "
        "feuille de présence. Pourquoi? Parce que le grand secret de cet atelier, c'est l'attestation. "
        "C'est la première leçon et le meilleur conseil de la journée. Imaginez l'oublier. L'erreur, c'est "
        "de croire que c'est facultatif. La feuille est près de la porte, et j'envoie les diapositives "
        "après la pause.",
        "Encore un secret sur cette salle: les meilleures places sont au fond, près des prises. Ne vous "
        "asseyez jamais près de la porte, c'est l'erreur classique. Pourquoi? Imaginez la vérité: la leçon "
        "la plus importante du jour, c'est où brancher votre ordinateur. Alors, première chose: le mot de "
        "passe du wifi est au tableau, et c'est tout le secret du programme. Franchement, le plus "
        "important de tout.",
    ],
    ramble=[
        "Ouais, donc, en gros, c'est, euh, c'est un de ces trucs, non? Tu regardes ça et tu te dis, bon, "
        "d'accord, hmm. Et puis, je sais pas, ça continue un peu à partir de là, plus ou moins. Enfin, "
        "chacun a son avis et c'est normal, évidemment. C'est, euh, c'est un peu compliqué. Plus ou moins. "
        "Bon, voilà, c'est à peu près là qu'on en est, quoi, disons.",
    ],
)  # fmt: skip

# ---------------------------------------------------------------------------------------------- pt

PT_1 = _talk(
    "pt-1", "pt", "pt-br", 160, 50, "SmSbrS",
    strong=[
        "Em julho de 2016, Ana Beatriz Souza abriu uma pequena lavanderia em Belo Horizonte, perto de uma "
        "faculdade. Durante quatro meses quase ninguém apareceu. Ela percebeu que os estudantes moravam em "
        "quartos sem máquina e saíam tarde das aulas. Passou a abrir até meia-noite e a cobrar quinze "
        "reais por cesto. No fim do ano atendia cento e vinte estudantes por semana e contratou duas "
        "funcionárias.",
        "O pescador Raimundo Nonato vive em Icapuí, no Ceará. Em 2005, as lagostas quase desapareceram da "
        "costa, e muitas famílias foram embora. Raimundo e outros trinta pescadores combinaram parar de "
        "pescar seis meses por ano e instalar abrigos de madeira no fundo do mar. Em 2012, a pesca tinha "
        "voltado, e a associação deles vendia lagosta para restaurantes de Fortaleza.",
        "Em 2018, a professora Juliana Costa dava aula de matemática numa escola pública do Recife onde "
        "metade da turma faltava às sextas. Ela começou a usar os preços da feira do bairro nos "
        "exercícios, e os alunos traziam anotações das barracas. Em três meses a frequência às sextas "
        "subiu de quinze para trinta e dois alunos, e a escola adotou o método em todas as turmas.",
    ],
    meta=[
        "Gente, vocês estão me ouvindo aí no fundo? Vou compartilhar a minha tela. Peraí, abriu a janela "
        "errada. Agora vocês estão vendo os slides? Alguém confirma no chat, por favor? Ótimo. Então, "
        "alguns avisos: a sessão está sendo gravada, a gravação vai por e-mail amanhã, e a gente faz um "
        "intervalo às onze. As perguntas, por favor, na caixa de perguntas, não no chat, tá bom?",
    ],
    stuffed=[
        "O mais importante primeiro, e nunca esqueçam isso: o maior segredo da agenda de hoje é o "
        "intervalo do café às dez e meia. Por quê? Porque é a lição que ninguém conta. O pior erro é "
        "pular o intervalo. Imagine perder a verdade sobre os slides, que, aliás, estão na pasta "
        "compartilhada. Esse é o segredo definitivo, a melhor dica de todas, de verdade.",
    ],
    ramble=[
        "Então, é, tipo, onde eu tava. Quer dizer, é meio que, sabe, uma coisa que acontece, né? Às vezes "
        "as coisas funcionam e às vezes não, e, hã, enfim, isso é meio, digamos, a ideia. Ou parte da "
        "ideia, pelo menos. Você me entende. É, hum, é todo um negócio, sabe. É. Enfim, então, tá, vamos, "
        "hã, continuar, eu acho, né, tipo assim.",
    ],
)  # fmt: skip

PT_2 = _talk(
    "pt-2", "pt", "pt+f2", 155, 55, "rSbSmSb",
    strong=[
        "Em 2014, o Joaquim Tavares herdou uma quinta abandonada no Douro, com dez hectares de vinhas "
        "velhas. Os bancos recusaram-lhe três empréstimos. Ele vendeu o carro, recuperou dois hectares "
        "sozinho e engarrafou seiscentas garrafas. Um restaurante do Porto comprou-as todas numa só "
        "semana. Hoje a quinta produz quarenta mil garrafas por ano e dá trabalho a nove pessoas da "
        "aldeia.",
        "No inverno de 2019, a farmacêutica Inês Moreira, de Coimbra, reparou que muitos idosos da sua rua "
        "tomavam os comprimidos à hora errada. Começou a preparar caixinhas semanais com os dias escritos "
        "em letras grandes. O centro de saúde contou que as idas às urgências desses doentes caíram para "
        "metade em seis meses, e mais sete farmácias da cidade adotaram as caixinhas.",
        "Em abril de 2019, o pescador João Pereira, de Peniche, notou que as sardinhas chegavam cada vez "
        "menores ao porto. Convenceu outros nove barcos a usar redes de malha maior durante dois anos. Os "
        "compradores de Lisboa pagaram menos no começo, e três pescadores desistiram. Em 2022, as sardinhas "
        "voltaram ao tamanho antigo, e o grupo vendia o quilo por quase o dobro do preço de antes.",
    ],
    meta=[
        "Desculpem, acho que o meu microfone falhou por um momento. Já me ouvem? Pronto, ótimo. Onde é que "
        "eu ia? Deixem-me voltar dois diapositivos atrás. Não, mais um. Aqui está. Só para lembrar que os "
        "materiais estão na pasta da ligação abaixo e que paramos para almoçar ao meio-dia e meia. Quem "
        "chegou atrasado tem o início na gravação, portanto não se preocupem.",
    ],
    stuffed=[
        "Antes de começarmos, o mais importante, e é a verdade: nunca saiam sem assinar a folha de "
        "presenças. Porquê? Porque o grande segredo deste workshop é o certificado. É a primeira lição e "
        "o melhor conselho do dia. Imaginem esquecer-se. O erro é pensar que é opcional. A folha está "
        "junto à porta, e envio os diapositivos depois do intervalo, como sempre.",
        "Mais um segredo sobre esta sala: os melhores lugares são lá atrás, perto das tomadas. Nunca se "
        "sentem ao pé da porta, é o erro clássico. Porquê? Imaginem a verdade: a lição mais importante do "
        "dia é onde ligar o computador. Portanto, primeiro o primeiro: a palavra-passe da rede está no "
        "quadro, e esse é o segredo todo da agenda. Sinceramente, o mais importante de tudo.",
    ],
    ramble=[
        "Pois, portanto, basicamente é, hã, é uma daquelas coisas, não é? Olhamos para aquilo e pensamos, "
        "pronto, está bem, hum. E depois, sei lá, aquilo continua mais ou menos a partir dali. Quer dizer, "
        "cada um tem a sua opinião e está tudo bem, claro. É, hum, é um bocado complicado. Mais ou menos. "
        "Pronto, pois, é mais ou menos aí que estamos, digamos.",
    ],
)  # fmt: skip

TALKS = [EN_1, EN_2, ES_1, ES_2, DE_1, DE_2, FR_1, FR_2, PT_1, PT_2]


def hype_words(text: str, language: str) -> list[str]:
    """The hype words of ``language`` that start a word of ``text``."""
    lowered = text.lower()
    return [w for w in HYPE_WORDS[language] if re.search(r"(?<!\w)" + re.escape(w), lowered)]


def check() -> Counter[tuple[str, str]]:
    """Raises on a passage that breaks the rules above; returns the count per (language, label)."""
    counts: Counter[tuple[str, str]] = Counter()
    for talk in TALKS:
        for label, text in talk.segments:
            words = len(text.split())
            if not MIN_WORDS <= words <= MAX_WORDS:
                raise ValueError(f"{talk.id}: {words} words in {text[:40]!r}")
            found = hype_words(text, talk.language)
            if label == STRONG and found:
                raise ValueError(f"{talk.id}: strong passage has hype words {found}: {text[:40]!r}")
            if label == STUFFED and len(found) < 5:
                raise ValueError(f"{talk.id}: stuffed passage has only {found}: {text[:40]!r}")
            counts[talk.language, label] += 1
    return counts


if __name__ == "__main__":
    for (language, label), n in sorted(check().items()):
        print(language, label, n)
