"""Real-phrasing rows for the offline router, and the fixed split they are measured on.

Sources (see ``crossroads/data/ATTRIBUTION.md`` for licences):

* ``gsm8k_train.jsonl`` (GSM8K, MIT): real grade-school word problems, label ``math``;
* ``nq_open_efficientqa.jsonl`` (NQ-open EfficientQA, CC BY-SA 3.0): real search-engine
  questions, label ``fact``;
* :data:`NONE_WRITTEN`: writing, chat and instruction requests written for this project
  (no third-party text), label ``none``.

**The split** is fixed and written down here: a row's split depends only on its text,
``sha256(f"{SPLIT_SEED}:{text}")``, read as a number in ``[0, 1)``: below
``HELDOUT_SHARE`` it is ``heldout``, below ``HELDOUT_SHARE + VALIDATION_SHARE`` it is
``validation``, otherwise ``train``. ``heldout`` rows are never trained on and never used to
choose a threshold; ``validation`` rows choose thresholds only. A file's row order and
new rows elsewhere do not move any row between splits.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

SPLIT_SEED = "crossroads-router-2026"
HELDOUT_SHARE = 0.20
VALIDATION_SHARE = 0.15
MATH_TRAIN_CAP = 2400
"""GSM8K train rows kept for training (the first by hash order): more add size, not accuracy."""

_REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = next(
    (
        p
        for p in (_REPO.parent / "shared" / "data", _REPO.parent.parent / "shared" / "data")
        if p.is_dir()
    ),
    _REPO.parent / "shared" / "data",
)
"""``../shared/data`` next to the checkout (or next to its worktree folder)."""


def split_of(text: str) -> str:
    """The fixed split of one row (see the module docstring)."""
    digest = hashlib.sha256(f"{SPLIT_SEED}:{' '.join(text.split())}".encode()).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    if position < HELDOUT_SHARE:
        return "heldout"
    if position < HELDOUT_SHARE + VALIDATION_SHARE:
        return "validation"
    return "train"


def _questions(path: Path) -> list[str]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                question = " ".join(str(json.loads(line)["question"]).split())
                if question:
                    rows.append(question)
    return rows


def real_rows(data_dir: Path = DEFAULT_DATA_DIR) -> list[dict[str, str]]:
    """GSM8K (math), NQ-open (fact) and the hand-written ``none`` rows, each with its split."""
    rows: list[dict[str, str]] = []
    pairs = (
        [(q, "math", "gsm8k") for q in _questions(data_dir / "gsm8k_train.jsonl")]
        + [(q, "fact", "nq_open") for q in _questions(data_dir / "nq_open_efficientqa.jsonl")]
        + [(q, "none", "written") for q in NONE_WRITTEN]
        + [(q, "math", "composed") for q in composed_arithmetic()]
    )
    math_train = 0
    for text, label, source in pairs:
        split = split_of(text)
        if source == "gsm8k" and split == "train":
            math_train += 1
            if math_train > MATH_TRAIN_CAP:
                continue
        rows.append({"text": text, "label": label, "split": split, "source": source})
    return rows


ARITHMETIC_SHAPES = (
    "what is {a}{op}{b}", "What is {a} {op} {b}?", "whats {a}{op}{b}", "{a} {op} {b} = ?",
    "calculate {a}{op}{b}", "how much is {a} {op} {b}", "What's {a}{op}{b}?", "{a}{op}{b}?",
    "what is {a} {op} {b} equal to", "quick: {a} {op} {b}",
)  # fmt: skip
ARITHMETIC_ROWS = 240


def composed_arithmetic() -> list[str]:
    """Short typed sums ("What is 2+2?"): GSM8K has no bare arithmetic and NQ-open is full
    of "what is ...", so without these the router sent "What is 2+2?" to facts."""
    import random

    rng = random.Random(SPLIT_SEED)
    rows = []
    for _ in range(ARITHMETIC_ROWS):
        shape = rng.choice(ARITHMETIC_SHAPES)
        a = rng.choice([rng.randint(1, 12), rng.randint(10, 999), round(rng.uniform(0, 99), 2)])
        b = rng.choice([rng.randint(1, 12), rng.randint(10, 999)])
        rows.append(shape.format(a=a, b=b, op=rng.choice(["+", "-", "*", "/", "x", "^", "%"])))
    return list(dict.fromkeys(rows))


NONE_WRITTEN = """
write a cover letter for a junior data analyst job
draft a polite reminder to my landlord about the broken heater
can you rewrite this paragraph so it sounds more formal
make this sentence shorter: we are going to be having a meeting on the topic of budgets
summarise the following text in two sentences
translate "good morning, how did you sleep" into spanish
give me a catchy name for a bakery that sells only sourdough
write a limerick about a cat who hates mondays
help me write a toast for my brother's wedding
i'm bored, entertain me
tell me a joke about programmers
lol that's funny
ok thanks
you're awesome
what do you think about pineapple on pizza
can we just chat for a bit
i had a rough day at work
brainstorm ten blog post titles about houseplants
outline a five paragraph essay on social media and teenagers
write the opening line of a fantasy novel
rewrite my bio for linkedin: i like computers and i fix them
proofread: their going to the park tomorow
make a packing list for a weekend of camping
create a weekly meal plan for a vegetarian
suggest three icebreaker games for a team meeting
write a haiku about autumn leaves
compose a short rap verse about coffee
help me apologise to a friend i forgot to call
write a product description for a bamboo toothbrush
draft a tweet announcing our new app
give me feedback on my story opening: it was a dark and stormy night
can you make this email sound friendlier
write a thank you note to my teacher
pretend you are a pirate and greet me
let's play twenty questions
roleplay as a tour guide in rome
write a dialogue between a robot and a child
what should i cook tonight
recommend a board game for four players
give me a motivational quote for monday morning
i want to start running, make me a plan
help me plan a surprise party
write a bedtime story about a sleepy dragon
turn this list into a paragraph: eggs, milk, bread
rephrase this so it sounds less angry
write a short horror story in 100 words
create a character sketch of a grumpy old wizard
help me name my new puppy
suggest a title for my poem about the sea
write an acrostic poem for the word HOPE
good morning!
hello there
hi, who are you?
bye for now
nice to meet you
how's it going
i'm feeling a bit lonely today
cheer me up please
write a resignation letter that stays on good terms
make a to-do list for moving house
draft an agenda for a one hour planning meeting
explain this to me like i'm five: why we need sleep... actually just write a poem about it
write song lyrics about a road trip
compose an ode to my morning toast
rewrite this headline to be more clickbaity: local council approves budget
write a scene where two old friends meet at a train station
give me some tips for my job interview tomorrow
help me write a complaint to the airline about my lost bag
write a wedding speech that's funny but not rude
create a riddle for kids
make up a tongue twister with the letter p
write a sonnet about the moon
suggest names for a fantasy kingdom
help me brainstorm a slogan for a recycling campaign
write an instagram caption for a beach photo
draft a message to my team about the holiday schedule
write a short paragraph describing a rainy city
polish my essay introduction please
i need a birthday message for my coworker
write a fable with a moral about patience
turn my notes into meeting minutes
create a quiz about my favourite show
write a persuasive paragraph for a four day work week
help me write a eulogy for my grandfather
rewrite this in plain english: the party of the first part shall indemnify
please continue the story from where we left off
make it rhyme
shorter please
can you make it funnier
try again but in the style of shakespeare
now translate it into french
add a happy ending
write me a pep talk before my exam
describe a sunset without using the word orange
create a workout playlist theme for me
give me three writing prompts about time travel
write a letter from a cat to its owner
draft a short newsletter intro for our book club
help me say no to extra work politely
rewrite this text message so it doesn't sound passive aggressive
compose a short jingle for a lemonade stand
write a mystery story set in a library
what's a good way to start a speech
plan my sunday
i need ideas for a date night at home
write a get well soon card message
suggest a theme for a kid's birthday party
create a short bio for my podcast
write an apology email for missing the deadline
make a checklist for launching a website
write a paragraph from the point of view of a tree
write a love letter in the style of an old novel
help me structure my thesis chapter
draft a welcome message for new members of our forum
write a short play about a lost umbrella
describe the perfect cup of tea in a poem
can you give me encouragement, i failed my driving test
write a funny out of office reply
compose a note to leave for my neighbour about the noise
tell me a story
sing me a song
write something nice about my dog
generate a list of fun team names
help me write an essay about my summer holiday
write a formal invitation to our company dinner
let's brainstorm names for my startup
write two sentences to end my short story
what's your favourite colour
do you like music
are you a robot
you made a mistake in the last answer
that's not what i asked
never mind
write a poem using the numbers one to ten
write a story about 3 bears who open a bakery
give me 5 ways to relax after work
write a 200 word essay about friendship
plan a 7 day itinerary for japan
make a 30 day writing challenge list
draft a 3 step onboarding email sequence
list 10 gift ideas for my dad
write a short speech for my 40th birthday
compose a thank you email after a 2nd interview
yo
sup
hey there
heya, what's up
morning
evening! long day
roleplay as a grumpy chef reviewing my sandwich
pretend to be my study buddy
act as a job interviewer and ask me questions
be a dungeon master and start an adventure
proofread my cover letter for typos
fix the grammar: me and him goes to school everyday
check the spelling in this: recieve, definately, seperate
edit this paragraph for clarity
sketch out a podcast episode about city beekeeping
outline a youtube video about budget travel
draft talking points for my presentation on teamwork
write a short scene set on a night train
come up with a backstory for my tabletop character
suggest a name for my fishing boat
write a gentle reminder that the rent is due
make a shopping list for a taco night
write a speech for the school assembly about kindness
help me write a poem for valentine's day
rewrite this joke so it lands better
write a short motivational message for my team
create a bedtime routine checklist for kids
draft an email asking for a day off
write a ghost story for a campfire
write a postcard message from paris
compose a tweet thread about learning to code
give me a pep talk, i have to speak in public
help me reply to this message from my ex
write a short review of a cafe i liked
summarise our conversation so far
rewrite that in bullet points
can you expand on the second point
make the tone more casual
write a paragraph arguing both sides of homework
help me write a letter to my future self
write a story where the hero is a snail
describe a busy market using all five senses
draft a note thanking volunteers
write a toast for new year's eve
help me write a dating profile
what would you do if you were me
tell me something to make me smile
i just got promoted!
i'm nervous about tomorrow
""".strip().splitlines()
