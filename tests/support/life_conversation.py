"""One user's conversation with an assistant about their life, and everyday questions about it.

Written for the doors' behaviour tests (issue 22): 30 turns over several topics (family, work, diet,
trips, pet, hobby, car, home, health, routine), then questions a user would ask later, in a new session,
each with a phrase of the user's own turn that answers it. Nothing here comes from a benchmark data set.
"""

from __future__ import annotations

from dataclasses import dataclass

TURNS: list[tuple[str, str]] = [
    ("user", "Hi! I'm Dana. I live in Portland, Oregon with my husband Marcus and our two kids."),
    ("assistant", "Nice to meet you, Dana! How old are your kids?"),
    ("user", "Our daughter Lily is eight and our son Theo just turned five."),
    ("assistant", "Lovely ages. What do you do for work?"),
    ("user", "I work as a nurse in the pediatric ward at Providence hospital, mostly night shifts."),
    ("assistant", "Night shifts are tough. Does Marcus work too?"),
    ("user", "Marcus is a high school chemistry teacher, so he has summers off."),
    ("assistant", "That must help with the kids in summer."),
    ("user", "I'm vegetarian and I'm allergic to peanuts, so please keep that in mind for recipes."),
    ("assistant", "Noted: vegetarian, no peanuts."),
    ("user", "We have a golden retriever called Biscuit who is terrified of thunderstorms."),
    ("assistant", "Poor Biscuit! Thunderstorms scare many dogs."),
    ("user", "Last spring we went to Kyoto in Japan and the cherry blossoms were unforgettable."),
    ("assistant", "Kyoto in spring sounds wonderful."),
    ("user", "In August we're planning a camping trip to Yellowstone with the kids."),
    ("assistant", "Yellowstone in August, great choice. Book campsites early."),
    ("user", "I play the cello in a community orchestra on Thursday evenings."),
    ("assistant", "How long have you played the cello?"),
    ("user", "I drive an old blue Subaru Outback that keeps needing new brakes."),
    ("assistant", "Brakes on older Outbacks do wear out."),
    ("user", "I'm training for the Portland marathon in October; I run every Saturday morning."),
    ("assistant", "Good luck with the marathon training!"),
    ("user", "My mother Ruth lives in Tucson and I call her every Sunday after dinner."),
    ("assistant", "Sunday calls with your mom sound like a nice ritual."),
    ("user", "We're thinking about repainting the kitchen a sage green colour this winter."),
    ("assistant", "Sage green is a calming kitchen colour."),
    ("user", "My manager at the hospital is Dr. Patel and she approved my vacation for August."),
    ("assistant", "Nice, so the Yellowstone dates are settled."),
    ("user", "For coffee I only drink oat milk lattes, never regular milk."),
    ("assistant", "Oat milk lattes it is."),
]

# Topics the user never mentioned: nothing of theirs should answer these.
UNRELATED = [
    "What is my favourite football team?",
    "Which programming language do I use at work?",
]


@dataclass(frozen=True)
class Question:
    text: str
    answer: str  # a phrase of the user's own turn that answers the question


QUESTIONS = [
    Question("How old is my daughter?", "Lily is eight"),
    Question("What does my husband do for a living?", "chemistry teacher"),
    Question("Do I have any food allergies?", "allergic to peanuts"),
    Question("What's the name of our dog?", "Biscuit"),
    Question("Where did we travel last spring?", "Kyoto"),
    Question("Where are we going camping this summer?", "Yellowstone"),
    Question("Which instrument do I play?", "cello"),
    Question("What car do I drive?", "Subaru Outback"),
    Question("Which race am I training for?", "marathon"),
    Question("When do I call my mother?", "every Sunday"),
    Question("What colour do we want for the kitchen?", "sage green"),
    Question("Who is my manager?", "Dr. Patel"),
]
