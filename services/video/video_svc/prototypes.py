"""Example sentences that anchor two judgements in embedding space.

The embedding model is multilingual, so an English example also recognises its Spanish or German
equivalent; a few non-English examples are added where wording differs most. These are meanings,
not keywords: a sentence is compared with them as a whole, so stuffing a passage with particular
words does not move it towards either set.
"""

from __future__ import annotations

# Talk about the talk: logistics, technology, agenda, lost threads. Never a clip on its own.
META_TALK: tuple[str, ...] = (
    "Can everyone see my screen?",
    "Let me share my screen.",
    "Can you hear me okay? Is my microphone working?",
    "Where was I? Sorry, I lost my train of thought.",
    "Let me find my notes.",
    "Here is the agenda for today's session.",
    "Before we start, a few housekeeping notes.",
    "We will take a short coffee break at ten o'clock.",
    "Lunch is served in the main hall at noon.",
    "We will take questions at the end of the session.",
    "The recording and the slides will be sent to you after the call.",
    "Please mute your microphones and turn on your cameras.",
    "Let me go to the next slide.",
    "We are running out of time, so let me skip ahead.",
    "Please fill in the feedback form after the session.",
    "Don't forget to like and subscribe to the channel.",
    "The link is in the chat and in the description below.",
    "Welcome everyone, thank you for joining us today.",
    "The next session starts in room B after the break.",
    "Thank you for watching, see you next week.",
    "¿Pueden ver mi pantalla? Voy a compartir las diapositivas.",
    "Können Sie mich hören? Ich teile jetzt meinen Bildschirm.",
    "La pause café est à dix heures, les questions à la fin.",
)

# A concrete story or finding: who, where, when, what happened, how it turned out.
STORY: tuple[str, ...] = (
    "In 2019 my sister Ana quit her job in Lisbon and opened a bakery with eight thousand euros.",
    "Three weeks later the oven broke, and she baked bread at the neighbour's house every night.",
    "When I was twelve, my grandfather took me fishing on Lake Michigan and we got caught in a storm.",
    "Our biggest customer left in March, and by summer we had to let half of the team go.",
    "She called the factory in Shenzhen at two in the morning, and they shipped the parts the next day.",
    "The experiment failed four times before Marie noticed the samples had been stored too warm.",
    "After the flood, the whole village rebuilt the school in six weeks, brick by brick.",
    "We cut the price from forty dollars to nine, and sales tripled within a month.",
    "He walked into the bank in Chicago with a shoebox of receipts and walked out with a loan.",
    "On the last day of the race her bike broke in the mountains, and she ran the final ten kilometres.",
)
