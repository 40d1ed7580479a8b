"""Text for generated tickets: titles, HTML descriptions that mention computers amid noise
(styled HTML, CSS property names, scripts, e-mail addresses, phone numbers, hyphenated words),
and feed conversation bodies."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .tenant import Person

NAME_SENTENCES = (
    "My computer {r} won't connect to the wi-fi since this morning.",
    "The machine labeled {r} is stuck on the log-in screen.",
    "Can someone re-image {r}? It has gotten really slow.",
    "{r} shows a blue screen after last night's update.",
    "Please install SPSS on {r} before Friday's follow-up session.",
    "The display on {r} flickers and then goes black.",
)
SERIAL_SENTENCES = (
    "The serial number on the bottom is {r}.",
    "S/N: {r}",
    "Service Tag {r}, in case you need it.",
    "It's the laptop with serial {r}.",
)
TAG_SENTENCES = ("Asset tag {r} is on the back.", "Our inventory sticker says {r}.")
TWO_SENTENCES = ("Both {a} and {b} have the same problem.", "{a} works, but {b} does not.")
VAGUE_SENTENCES = (
    "My laptop won't turn on after the e-mail about the update.",
    "I can't print to the 2nd-floor printer.",
    "Outlook keeps asking for my password.",
    "My office computer is very slow since the weekend.",
    "The projector in our seminar room won't pick up my laptop.",
    "I need a follow-up on the software request I sent last week.",
)
NOISE_SENTENCES = (
    "I already tried the follow-up steps from the e-mail you sent.",
    "The wi-fi in the room has been spotty all week.",
    "It's probably the built-in webcam; the log-in itself works fine.",
    "Could you look at it before the mid-term exams?",
    "The e-mail from LSA-IT said to reboot, but no luck.",
    "We use UTF-8 files and ISO-8601 dates in our scripts, if that matters.",
    "My co-worker at (734) 555-0199 has the same problem.",
    "The EH-WIFI network keeps dropping too.",
    "See https://its.example.edu/wi-fi-help for what I tried.",
    "This is a high-priority, time-sensitive request for our COVID-19 study.",
    "Please cc my assistant at mary-ann.lee@example.edu on any follow-up.",
    "Our lab line is 734-555-0123 (ext. 4-1180).",
)
GENERIC_TITLES = (
    "Computer won't boot",
    "Laptop very slow",
    "Wi-Fi drops every few minutes",
    "Software install request: SPSS",
    "Cannot log in to workstation",
    "Blue screen after update",
    "Keyboard and mouse not responding",
    "Need follow-up on e-mail migration",
    "Outlook keeps asking for password",
    "Printer not working",
)
NAMED_TITLES = ("{r} - no network", "Lab PC {r} frozen", "Re-image {r}", "{r} won't power on")
STYLE_BLOCK = (
    '<style>p.MsoNormal, li.MsoNormal { margin: 0in; font-family: "Calibri", sans-serif; '
    "mso-line-height-rule: exactly; } .x_signature { line-height: 1.2; background-color: #ffffff; "
    "text-decoration: none; border-top-width: 1px; font-size: 11pt; }</style>"
)
SCRIPT_BLOCK = (
    "<script type=\"text/javascript\">document.addEventListener('DOMContentLoaded', function () "
    "{ var el = document.getElementById('x-sig-block'); if (el) { el.style.fontFamily = 'Arial'; } "
    "});</script>"
)
TECH_COMMENTS = (
    "Reached out to {first} by e-mail to schedule a follow-up.",
    "Checked the wi-fi controller logs; no errors on our side.",
    "Waiting on the client to bring the machine by the front desk.",
    "Remote session started; updates are installing.",
    "Ordered a replacement power adapter.",
)
REQUESTOR_REPLIES = (
    "Any update on this?",
    "It happened again this morning.",
    "Thanks, Tuesday afternoon works for me.",
    "I'm working from home today, call me at 734-555-0123.",
)
FEED_SERIAL_REPLIES = (
    "Thanks! The serial on the sticker is {r}.",
    "Found it: S/N {r}.",
    "The service tag is {r} if that helps.",
)


@dataclass
class TicketText:
    title: str
    description: str
    is_rich_html: bool


@dataclass
class TextPlan:
    """What a generated ticket mentions where."""

    names_in_description: list[str] = field(default_factory=list)
    serials_in_description: list[str] = field(default_factory=list)
    tags_in_description: list[str] = field(default_factory=list)
    name_in_title: str | None = None
    title: str | None = None
    with_nul_byte: bool = False
    plain_text: bool | None = None


def _problem_sentences(rng: random.Random, plan: TextPlan) -> list[str]:
    sentences: list[str] = []
    names = plan.names_in_description
    if len(names) >= 2:
        sentences.append(rng.choice(TWO_SENTENCES).format(a=names[0], b=names[1]))
        names = names[2:]
    sentences.extend(rng.choice(NAME_SENTENCES).format(r=name) for name in names)
    sentences.extend(rng.choice(SERIAL_SENTENCES).format(r=s) for s in plan.serials_in_description)
    sentences.extend(rng.choice(TAG_SENTENCES).format(r=t) for t in plan.tags_in_description)
    if not sentences:
        sentences.append(rng.choice(VAGUE_SENTENCES))
    return sentences


def _signature(person: Person) -> list[str]:
    return [person.full_name, person.title, f"{person.phone} | {person.email}"]


def compose_ticket(rng: random.Random, plan: TextPlan, requestor: Person) -> TicketText:
    if plan.title is not None:
        title = plan.title
    elif plan.name_in_title is not None:
        title = rng.choice(NAMED_TITLES).format(r=plan.name_in_title)
    else:
        title = rng.choice(GENERIC_TITLES)
    problem = _problem_sentences(rng, plan)
    noise = rng.sample(NOISE_SENTENCES, k=rng.randint(1, 3))
    plain = plan.plain_text if plan.plain_text is not None else rng.random() < 0.2
    if plain:
        lines = ["Hi Desktop Support,", "", *problem, *noise, "", *_signature(requestor)]
        description = "\n".join(lines)
    else:
        parts: list[str] = []
        if rng.random() < 0.45:
            parts.append(STYLE_BLOCK)
        parts.append('<p style="font-family: Arial; margin-top: 4px">Hi Desktop Support,</p>')
        parts.append("<p>" + " ".join(problem) + "</p>")
        parts.append('<p style="margin-bottom: 0px; line-height: 1.4">' + " ".join(noise) + "</p>")
        if rng.random() < 0.15:
            parts.append(SCRIPT_BLOCK)
        parts.append(
            '<div class="x_signature" id="x-sig-block" style="font-family: Calibri; '
            'font-size: 10pt; color: #1f3864">' + "<br>".join(_signature(requestor)) + "</div>"
        )
        description = "".join(parts)
    if plan.with_nul_byte:
        description = description.replace("Hi Desktop Support,", "Hi Desktop Support,\x00", 1)
    return TicketText(title=title, description=description, is_rich_html=not plain)


def tech_comment(rng: random.Random, requestor: Person) -> str:
    return rng.choice(TECH_COMMENTS).format(first=requestor.first_name)


def requestor_reply(rng: random.Random, serial: str | None = None) -> str:
    if serial is not None:
        return rng.choice(FEED_SERIAL_REPLIES).format(r=serial)
    return rng.choice(REQUESTOR_REPLIES)
