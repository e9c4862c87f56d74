"""What a first-person statement is about: its category, the slot it fills, and whether it is core.

Core facts are the stable profile a memory hands over on every call (GoMemory's "always provided"):
identity, family (pets included), home, work, diet and allergies, lasting preferences and standing
instructions. Plans, trips, events, possessions, hobbies and routines are general: true, worth finding
by search, but not the profile. A slot names the attribute a fact fills ("home", "son name") so that a
later value supersedes it; facts that can hold alongside others of their kind have none.

The patterns run on the (already leading-interjection-free) first-person sentence, lower-cased.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RELATIVES = (
    r"(?:wife|husband|partner|spouse|boyfriend|girlfriend|fianc[eé]e?|son|daughter|kids?|children|child|"
    r"baby|mom|mum|mother|dad|father|parents|brother|sister|sibling|grandma|grandmother|grandpa|"
    r"grandfather|grandson|granddaughter|aunt|uncle|cousin|niece|nephew|in-laws?|mother-in-law|"
    r"father-in-law|stepson|stepdaughter|stepmom|stepdad|twins?|oldest|youngest|eldest|best friend)"
)
PETS = (
    r"(?:dog|cat|puppy|kitten|pup|pet|parrot|bird|rabbit|bunny|hamster|guinea pig|fish|turtle|horse|"
    r"lizard|snake)"
)
VEHICLES = (
    r"(?:car|truck|bike|bicycle|motorcycle|motorbike|scooter|van|suv|jeep|tesla|prius|camry|civic|ev|boat|"
    r"cycle)"
)
JOBS = (
    r"(?:(?:[a-z-]+ )?(?:engineer|developer|designer|manager|teacher|nurse|scientist|analyst|consultant|"
    r"specialist|therapist|counselou?r|worker|assistant|technician|officer|administrator|director|editor|"
    r"researcher|programmer|writer|artist|photographer|musician|painter|chef|cook|baker|pilot|lawyer|"
    r"attorney|doctor|physician|surgeon|dentist|vet|veterinarian|pharmacist|paramedic|accountant|architect|"
    r"professor|lecturer|librarian|mechanic|plumber|electrician|carpenter|firefighter|cop|police officer|"
    r"soldier|student|intern|freelancer|entrepreneur|founder|ceo|cto|barista|waiter|waitress|cashier|"
    r"driver|farmer|journalist|salesperson|realtor|coach|trainer|instructor|tutor|caregiver|social worker))"
)


@dataclass(frozen=True)
class Rule:
    regex: re.Pattern[str]
    category: str
    core: bool
    slot: str | None  # a template over the regex groups; None = no supersession


def _r(pattern: str, category: str, core: bool, slot: str | None = None) -> Rule:
    return Rule(re.compile(pattern, re.I), category, core, slot)


RULES: tuple[Rule, ...] = (
    # identity
    _r(r"\bmy name is\b|\bcall me\b", "identity", True, "name"),
    _r(
        r"\bi(?: am|'m) (?P<age>\d{1,3})(?: years? old)?\b(?! (?:minutes|times|days|weeks|months|miles|km))",
        "identity",
        True,
        "age",
    ),
    _r(r"\bi (?:just )?turned \d{1,3}\b", "identity", True, "age"),
    _r(
        r"\bi(?: am|'m) (?:originally )?from\b|\bi was born in\b|\bi grew up in\b", "identity", True, "origin"
    ),
    _r(
        r"\bmy (?:native|first|mother) (?:language|tongue)\b|\bi(?: am|'m) a native\b",
        "identity",
        True,
        "language",
    ),
    _r(
        r"\bi(?: am|'m) (?:a )?(?:trans|transgender|gay|lesbian|bisexual|queer|non-binary|nonbinary)\b",
        "identity",
        True,
    ),
    # family and pets (a pet is family here)
    _r(
        r"\bmy (?P<rel>" + RELATIVES + r")(?:'s name is| is (?:called|named)| named| called)\b",
        "family",
        True,
        "{rel} name",
    ),
    _r(
        r"\bmy (?P<rel>" + PETS + r")(?:'s name is| is (?:called|named)| named| called)\b",
        "pet",
        True,
        "{rel} name",
    ),
    _r(r"\bi have (?:a|an|one|two|three|four|five|\d+) (?:[a-z-]+ ){0,3}?(?:" + PETS + r")s?\b", "pet", True),
    _r(r"\bi (?:just |recently )?(?:adopted|rescued) (?:a|an|two|three)\b", "pet", True),
    _r(
        r"\bi have (?:a|an|one|two|three|four|five|six|\d+) (?:[a-z-]+ ){0,2}?(?:" + RELATIVES + r"|sons|"
        r"daughters|brothers|sisters|grandkids|grandchildren)\b",
        "family",
        True,
    ),
    _r(
        r"\bmy (?P<rel>"
        + RELATIVES
        + r") (?:(?-i:[A-Z][a-z]+) )?(?:is|works) (?:an? |as an? )?"
        + JOBS
        + r"\b",
        "family",
        True,
        "{rel} work",
    ),
    _r(
        r"\bmy (?P<rel>" + RELATIVES + r") (?:[a-z]+ )?(?:is|turned|just turned) \d{1,2}\b",
        "family",
        True,
        "{rel} age",
    ),
    _r(
        r"\bi(?: am|'m) (?:happily )?(?:married|single|divorced|engaged|widowed|separated)\b|\bi(?: am|'m) "
        r"pregnant\b|\bi(?: am|'m) expecting\b",
        "family",
        True,
        "status",
    ),
    _r(
        r"\bmy (?:"
        + RELATIVES
        + r")\b(?! (?:and i|said|says|told|asked))(?: (?-i:[A-Z][a-z]+))? (?:is|are|was) "
        r"(?:an? )?\d",
        "family",
        True,
    ),
    # home
    _r(
        r"\bi (?:now |currently )?(?:live|reside|stay)s? (?:in|at|near|on|with)\b|"
        r"\bi(?: just)? moved (?:to|into)\b|"
        r"\bmy (?:home|house|apartment|flat|place) is in\b",
        "home",
        True,
        "home",
    ),
    # work
    _r(
        r"\b(?:my )?(?:boss|manager|supervisor)(?:'s name is| is (?:called|named)|,? (?-i:[A-Z][a-z]+)\b)|"
        r"\bi report to\b",
        "work",
        True,
        "manager",
    ),
    _r(
        r"\bi (?:work|am working|'m working) (?:as|at|for|in)\b|"
        r"\bmy (?:job|profession|occupation|career) is\b|"
        r"\bi(?: just)? (?:got|started|landed) (?:a |my )?(?:new )?job\b|\bi(?: am|'m) an? (?:[a-z-]+ ){0,2}"
        + JOBS
        + r"\b|\bi(?: am|'m) (?:retired|unemployed|self-employed)\b|\bi run (?:a|my own) "
        r"(?:business|company|shop|store|bakery|restaurant)\b",
        "work",
        True,
        "work",
    ),
    # diet and allergies
    _r(
        r"\bi(?: am|'m) (?:severely |very |a bit )?allergic to "
        r"(?P<thing>[a-z ]{2,30}?)\b(?=[,.!]|$| and| so)",
        "health",
        True,
        "allergy {thing}",
    ),
    _r(
        r"\bi(?: am|'m) (?:a |strictly |mostly )?(?:vegetarian|vegan|pescatarian|gluten[- ]free|keto|"
        r"lactose[- ]intolerant|celiac|diabetic|kosher|halal)\b|\bi (?:don't|do not|can't|cannot|never) "
        r"eat\b|\bi have (?:a |an )?(?:[a-z]+ )?(?:allergy|intolerance)\b",
        "diet",
        True,
    ),
    # lasting preferences and standing instructions
    _r(
        r"\bmy (?:all-time )?favou?rite (?P<thing>[a-z ]{2,30}?) (?:is|are)\b",
        "preference",
        True,
        "favourite {thing}",
    ),
    _r(
        r"\bi (?:really )?(?:prefer|hate|dislike|can't stand|cannot stand|don't like|do not like)\b",
        "preference",
        True,
    ),
    _r(
        r"^(?:please )?(?:always|never|don't ever|do not ever) (?:use|call|answer|reply|respond|"
        r"remind|tell|give|"
        r"write|keep|say|refer|address|talk|speak|include|mention|format|show|ask|suggest|recommend|book)\b|"
        r"^please (?:use|call|remember|keep|don't|do not)\b",
        "instruction",
        True,
    ),
    # general: possessions, hobbies, routines, trips and plans
    _r(
        r"\bi drive\b|\bi (?:own|have|bought|got|just bought|just got) (?:a|an|my) (?:new |used |old )?"
        r"(?:[a-z0-9-]+ )"
        r"{0,3}?" + VEHICLES + r"\b|\bmy " + VEHICLES + r" is\b",
        "vehicle",
        False,
    ),
    _r(
        r"\bi (?:play|practice|practise|learn|am learning|'m learning|started learning|took up|do|run|"
        r"ran|swim|paint|draw|knit|bake|climb|hike|surf|ski|cycle|dance|sing|write)\b|\bi(?:'ve| have) been "
        r"(?:playing|learning|practicing|practising|running|painting|training|taking)\b|\bi(?: am|'m) "
        r"(?:training for|learning)\b|\bmy hobby\b|\bi(?: am|'m) (?:into|a fan of)\b",
        "hobby",
        False,
    ),
    _r(
        r"\b(?:every|each) (?:day|morning|evening|night|week|weekend|monday|tuesday|wednesday|thursday|"
        r"friday|saturday|sunday|month)\b|\bi (?:usually|always|often|normally|typically)\b|\bon "
        r"(?:mondays|tuesdays|wednesdays|thursdays|fridays|saturdays|sundays|weekends)\b|\bonce a\b|"
        r"\btwice a\b",
        "routine",
        False,
    ),
    _r(
        r"\bi(?:'m| am| will|'ll)? (?:going|flying|heading|travell?ing|driving|off) to\b|\bi (?:went|flew|"
        r"travell?ed|drove|visited|got back from|came back from|returned from)\b|\btrip\b|\bvacation\b|"
        r"\bholiday\b",
        "trip",
        False,
    ),
    _r(
        r"\bi(?: am|'m) (?:planning|hoping|going|about|thinking of|thinking about)\b|\bi (?:plan|want|intend|"
        r"hope|aim|need|would like|'d like|wanna|gonna)\b|\bi will\b|\bi'll\b",
        "plan",
        False,
    ),
    _r(r"\bi (?:really )?(?:love|like|enjoy|adore)\b", "interest", False),
)


@dataclass(frozen=True)
class Classified:
    category: str
    core: bool
    slot: str | None


def classify(sentence: str) -> Classified | None:
    """The first rule that matches the sentence, its slot filled in; None for no known kind."""
    for rule in RULES:
        match = rule.regex.search(sentence)
        if match is None:
            continue
        slot = None
        if rule.slot is not None:
            groups = {k: " ".join((v or "").lower().split()) for k, v in match.groupdict().items()}
            slot = rule.slot.format(**groups)
        return Classified(rule.category, rule.core, slot)
    return None
