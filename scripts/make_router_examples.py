"""Write ``crossroads/data/router_examples.jsonl``, the offline router's training and test rows.

Each row is ``{"text": ..., "label": "math" | "fact" | "none", "split": "train" |
"validation" | "heldout", "source": ...}``; ``source`` is ``synthetic`` (the tables below),
``gsm8k``, ``nq_open`` or ``written`` (see ``scripts/router_real_data.py`` for those and for
how their split is fixed).

How the rows are made, and why the held-out accuracy it yields is honest:

* The **train** split mixes hand-written questions with rows composed from small phrase
  tables (people, objects, places, works, tasks) and several sentence shapes per class, so
  the classifier sees many wordings of the same intent.
* The **heldout** split is written separately, by hand, and shares neither sentence shapes
  nor most topics with train: other story problems, other countries and people, other
  writing tasks, more typos, lower-case search queries and chatty phrasings. A model that
  only memorised the train templates scores visibly worse on it.
* Hard cases are on purpose in both splits: facts that contain numbers ("when did ww2
  end"), writing requests that contain numbers ("plan a 3 day trip"), math without digits
  ("what's half of a dozen").

The output is deterministic (fixed seed, stable order): run it again and ``git diff`` shows
only what you changed here.

    .venv/bin/python scripts/make_router_examples.py [../shared/data]
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from router_real_data import DEFAULT_DATA_DIR, real_rows

OUTPUT_PATH = (
    Path(__file__).resolve().parent.parent / "crossroads" / "data" / "router_examples.jsonl"
)
SEED = 20240611

# --------------------------------------------------------------------------------------
# Train split: hand-written rows
# --------------------------------------------------------------------------------------

TRAIN_MATH_WRITTEN = """
I have 10 apples and I ate four. How many do I have left?
Janet's ducks lay 16 eggs per day. She eats three and bakes muffins with four. How many are left?
12*7
sqrt(2)^2
what is 15% of 240?
and divided by 4?
now multiply that by 3
what's 7 times 8
2+2
(45 - 12) / 3
how much is 250 divided by 5
calculate 17 squared
what is the square root of 144
1024 / 32
3.5 * 4.2
what's 18 percent of 50
If a shirt costs $40 and is 25% off, what is the sale price?
A baker made 48 cookies and sold 30. How many cookies does he have now?
Tom has 5 marbles. His friend gives him 7 more. How many marbles does Tom have?
There are 6 boxes with 12 pencils in each box. How many pencils are there in total?
Sara had 20 dollars and spent 8 on lunch. How much money does she have left?
24 candies are shared equally among 6 kids. How many does each kid get?
what is twenty five plus seventeen
ten minus three
one hundred and five divided by five
half of 30
what is double 45
twice 13
what is 2 to the power of 10
how much is 9 squared plus 4
add 345 and 678
subtract 19 from 100
multiply 23 by 11
divide 81 by 9
what is the sum of 14, 22 and 31
what's the product of 6 and 9
what is the difference between 90 and 37
if I have 3 bags with 8 oranges each how many oranges do I have
A class has 28 students and 4 are absent today. How many are present?
Mia read 15 pages on Monday and 22 pages on Tuesday. How many pages did she read altogether?
A pizza is cut into 8 slices and 3 are eaten. How many slices remain?
A farmer has 120 sheep and sells a third of them. How many sheep does he sell?
A train ticket costs 12 euros. How much do 5 tickets cost?
what is 0.25 times 80
5 factorial
what's 1/3 + 1/6
round 3.14159 to two decimals
convert 3/8 to a decimal
what is 7% of 1200
increase 80 by 15 percent
a price of 60 goes down by 10%. what is the new price?
what is 100 minus 37 plus 12
how much is a dozen times 4
what's 999 + 1
what is 81 / 9 * 2
compute (3 + 4) * (5 - 2)
evaluate 2^8 - 1
what is 45 divided by 0.5
what's 13 cubed
and then add 10
plus 7?
times two?
what if I subtract 15 from that
and the square root of that?
ok now halve it
Lisa bought 3 notebooks at $2.50 each. How much did she pay?
A jar holds 250 marbles. If 75 are red, how many are not red?
If 4 friends split a $96 bill evenly, how much does each pay?
There were 54 birds on a tree and 19 flew away. How many birds are still on the tree?
Kevin scored 12, 15 and 9 points in three games. What is his total?
What is the average of 4, 8 and 12?
A rectangle is 7 by 9. What is its area?
what is 3 + 7?
how much is 15 plus 15
what is 6 × 7
what's 144 ÷ 12
1000 - 1
what is 2.5 + 2.5
9 * 9 * 9
how many is 40 take away 13
what is 50 percent of 18
what is a quarter of 200
three times four
eight divided by two
twenty-one minus nine
what is seventy plus thirty
how much is one thousand minus one
Mark had 45 stickers and gave 12 to his sister. How many stickers does Mark have now?
A bus had 30 passengers. At the stop, 8 got off and 5 got on. How many passengers are on the bus?
Emma picks 14 flowers in the morning and 9 in the afternoon. How many flowers did she pick?
A book has 320 pages. Jack has read 85. How many pages are left?
Each bag holds 6 potatoes. How many potatoes are in 7 bags?
There are 45 chairs arranged in 5 equal rows. How many chairs are in each row?
My phone battery is at 80% and drops 15%. what is it at now
what is 20% tip on a $45 bill
how much is 3 percent of 1500
If I save $25 a week, how much will I have after 12 weeks?
what's 5 squared minus 3 squared
is 17 * 3 more than 50? what is it
the square root of 81 plus 10
what number is 30 percent of 90
what do I get if I multiply 14 by 6
what do you get when you add 8 and 19
how much is 600 split 4 ways
12 + 18 + 30 + 40
what's (100 - 20) / 4
log10(1000)
what is 2 + 2 * 2
""".strip().splitlines()

TRAIN_FACT_WRITTEN = """
capital of australia
pyramids egypt who built
gee, I'm wondering whether they make those pyramids in like Egypt
when did ww2 end
how tall is the eiffel tower
who wrote Pride and Prejudice?
what is the capital of Canada
when was the Declaration of Independence signed
where is Machu Picchu
who painted the Mona Lisa
what is photosynthesis
who was the first president of the United States
how many moons does Jupiter have
what year did the Berlin Wall fall
how far is the moon from the earth
what is the boiling point of water in fahrenheit
who invented the telephone
what language do they speak in Brazil
where was Albert Einstein born
what causes the northern lights
what is the largest ocean on earth
who discovered penicillin
how long is the Great Wall of China
what does DNA stand for
what is the population of Japan
which planet is closest to the sun
when did the Titanic sink
who won the 2018 world cup
what is the tallest mountain in africa
how deep is the mariana trench
who is the author of 1984
what is the speed of light
what is the currency of switzerland
when was the first iPhone released
where do penguins live
how old is the universe
what is the chemical symbol for gold
who composed the four seasons
what was the Apollo 11 mission
is a tomato a fruit or a vegetable
why is the sky blue
how many bones are in the human body
what is the longest river in the world
who was Cleopatra
what happened in 1066
what is the freezing point of water in kelvin
who founded microsoft
where is the Great Barrier Reef
when did humans first land on the moon
what is the main ingredient in guacamole
eiffel tower height
population of france 2020
who is the ceo of tesla
mount everest elevation
when did the roman empire fall
what are black holes
how do vaccines work
what's the difference between a virus and a bacterium
who played Harry Potter in the movies
what is the largest country by area
how many players are on a soccer team
what's the capital of new zealand
what does a cardiologist do
which country has the most people
where is timbuktu
what is the smallest bone in the body
when was shakespeare born
what is the atomic number of carbon
where did the olympic games start
who is the greek god of the sea
how many continents are there
what is the hottest planet in the solar system
what's the tallest building in the world
who wrote the odyssey
what is inflation in economics
how many hearts does an octopus have
when was the printing press invented
who was napoleon bonaparte
what is the capital of kenya
where is the sahara desert
how big is the amazon rainforest
what is the meaning of the word serendipity
which element has the symbol Fe
who discovered gravity
when does summer start in australia
how many time zones does russia have
what is the oldest university in europe
what's the gdp of germany
what do koalas eat
how long do elephants live
who designed the statue of liberty
what was the cold war
what's the distance between london and paris
what is the square footage of the white house
i wonder who was the first woman in space
hey do you know what the largest desert is
quick question, when was the eiffel tower built?
so like, where do kangaroos even come from
remind me what the capital of spain is
what's the deal with the bermuda triangle, is it real
tallest waterfall world
who won best picture in 1998
how hot is the surface of the sun
what year was google founded
""".strip().splitlines()

TRAIN_NONE_WRITTEN = """
write a haiku about rain
reply politely to this email
plan my week
hi!
tell me a story about a dragon named Ada
hello there
thanks so much!
good morning
can you help me write a cover letter for a marketing job
write a poem about autumn leaves
draft a short speech for my sister's wedding
give me some ideas for a birthday party
how should I ask my boss for a raise
write a limerick about a cat who loves cheese
I'm feeling a bit down today
make a packing list for a beach vacation
summarize this paragraph for me
suggest a name for my new puppy
write a bedtime story for a five year old
help me plan a three day trip to Rome
what should I cook for dinner tonight
rewrite this sentence to sound more professional
compose a thank you note for my teacher
brainstorm slogans for a coffee shop
I need a workout plan for beginners
write a short mystery story set in a lighthouse
can you make this email shorter
tell me a joke
what do you think about my idea for a startup
help me study for my exam
give me tips to sleep better
write an apology message to a friend
create a weekly meal plan
write song lyrics about summer love
how do I stay motivated while working from home
outline a blog post about gardening
plan a surprise party for my mom
translate the tone of this text to be friendlier
write a product description for handmade candles
what's up
bye!
you're awesome
can we chat for a bit
write a story where a robot learns to paint
give me 10 name ideas for a bakery
draft an out of office reply
help me write a toast for my best friend
write a sonnet about the sea
invent a fairy tale about a brave mouse
create a schedule for studying 4 hours a day
write a 200 word essay about friendship
recommend a book for a long flight
suggest a fun weekend activity for kids
I can't decide between two job offers, help me think
write dialogue between a pirate and a librarian
describe a sunset in a poetic way
give me feedback on my resume
write a motivational quote
come up with a riddle
help me name my fantasy kingdom
write a funny tweet about mondays
plan a 5 course dinner menu
write a short horror story about a mirror
make my paragraph more concise
what would be a good gift for my dad
write a welcome message for new team members
create a character for my novel, a retired spy
how can I be more productive
write an acrostic poem for the word HOPE
write a letter to my future self
let's play a word game
please proofread this for me
write a rap verse about pizza
help me structure my presentation
give me a pep talk
write a eulogy for my grandfather
can you write a scene where two old friends meet again
write a love letter
draft a complaint to my landlord about the heating
plan a road trip itinerary along the coast
help me decide what to wear to an interview
write instructions for a board game I invented
ok cool
nice, thank you
lol that's funny
write a children's song about brushing teeth
""".strip().splitlines()

# --------------------------------------------------------------------------------------
# Train split: rows composed from phrase tables (several shapes per class)
# --------------------------------------------------------------------------------------

PEOPLE = [
    "Anna",
    "Ben",
    "Chloe",
    "Diego",
    "Emily",
    "Farid",
    "Grace",
    "Hiro",
    "my brother",
    "our teacher",
    "the shopkeeper",
    "Priya",
    "Omar",
    "Lucy",
    "a farmer",
    "the chef",
]
ITEMS = [
    "apples",
    "stickers",
    "cookies",
    "pencils",
    "marbles",
    "books",
    "cupcakes",
    "stamps",
    "oranges",
    "toy cars",
    "seashells",
    "balloons",
    "eggs",
    "cards",
    "shells",
    "muffins",
]
NUMBER_WORDS = {
    2: "two",
    3: "three",
    4: "four",
    5: "five",
    6: "six",
    7: "seven",
    8: "eight",
    9: "nine",
    10: "ten",
    11: "eleven",
    12: "twelve",
    15: "fifteen",
    20: "twenty",
    25: "twenty-five",
    30: "thirty",
    40: "forty",
    50: "fifty",
}


def _say_number(rng: random.Random, value: int) -> str:
    """Write a number in digits most of the time and in words sometimes, as people do."""
    if value in NUMBER_WORDS and rng.random() < 0.35:
        return NUMBER_WORDS[value]
    return str(value)


def compose_math(rng: random.Random, count: int) -> list[str]:
    """Story problems and bare arithmetic in varied shapes."""
    shapes = [
        "{p} has {a} {i} and gives {b} to a friend. How many {i} are left?",
        "{p} had {a} {i}. Then {p2} gave {p_obj} {b} more. How many {i} now?",
        "If {p} buys {a} packs of {i} with {b} in each pack, how many {i} is that?",
        "{p} wants to share {ab} {i} equally between {a} people. How many does each get?",
        "There are {a} {i} in a basket. {p} takes {b}. How many are still in the basket?",
        "{p} collected {a} {i} on Saturday and {b} on Sunday. How many in all?",
        "what is {a} {op} {b}",
        "{a} {sym} {b}",
        "how much is {a} {op} {b}?",
        "can you work out {a} {op} {b} for me",
        "what's {pct}% of {big}",
        "{pct} percent of {big} is how much",
        "{p} earns ${a} an hour and works {b} hours. How much does {p} earn?",
        "a box of {i} costs ${a}. how much for {b} boxes",
        "{p} ran {a} km on Monday and {b} km on Tuesday. how far in total",
        "if {ab} {i} are packed {a} to a bag, how many bags are needed",
    ]
    ops = [
        ("plus", "+"),
        ("minus", "-"),
        ("times", "*"),
        ("divided by", "/"),
        ("multiplied by", "*"),
    ]
    rows: list[str] = []
    for index in range(count):
        shape = shapes[index % len(shapes)]
        a, b = rng.randint(2, 50), rng.randint(2, 12)
        op_word, op_symbol = rng.choice(ops)
        rows.append(
            shape.format(
                p=rng.choice(PEOPLE).capitalize()
                if shape.startswith("{p}")
                else rng.choice(PEOPLE),
                p2=rng.choice(["her mom", "his uncle", "a neighbour", "the teacher"]),
                p_obj=rng.choice(["her", "him", "them"]),
                i=rng.choice(ITEMS),
                a=_say_number(rng, a),
                b=_say_number(rng, b),
                ab=a * b,
                op=op_word,
                sym=op_symbol,
                pct=rng.choice([5, 10, 12, 15, 20, 25, 30, 40, 75]),
                big=rng.choice([40, 80, 120, 200, 250, 360, 500, 1200]),
            )
        )
    return rows


COUNTRIES = [
    "Peru",
    "Norway",
    "Vietnam",
    "Morocco",
    "Chile",
    "Poland",
    "Thailand",
    "Ireland",
    "Egypt",
    "Argentina",
    "Sweden",
    "Nigeria",
    "Portugal",
    "Mongolia",
    "Cuba",
    "Greece",
]
PEOPLE_FAMOUS = [
    "Marie Curie",
    "Leonardo da Vinci",
    "Nelson Mandela",
    "Isaac Newton",
    "Frida Kahlo",
    "Ada Lovelace",
    "Mahatma Gandhi",
    "Charles Darwin",
    "Amelia Earhart",
    "Galileo",
    "Beethoven",
    "Martin Luther King",
    "Alexander the Great",
    "Nikola Tesla",
]
LANDMARKS = [
    "the Colosseum",
    "Big Ben",
    "the Taj Mahal",
    "Stonehenge",
    "the Golden Gate Bridge",
    "the Burj Khalifa",
    "Angkor Wat",
    "the Sydney Opera House",
    "Mount Fuji",
    "the Acropolis",
]
EVENTS = [
    "the French Revolution",
    "the first world war",
    "the moon landing",
    "the fall of Constantinople",
    "the Great Depression",
    "the Black Death",
    "the American civil war",
    "the Chernobyl disaster",
]


ANIMALS = [
    "an ant",
    "a horse",
    "a crab",
    "an owl",
    "a dolphin",
    "a giraffe",
    "a bee",
    "a snail",
    "a kangaroo",
    "a camel",
    "a squid",
    "a beetle",
]
ANIMAL_PARTS = [
    "legs",
    "teeth",
    "eyes",
    "stomachs",
    "wings",
    "toes",
    "hearts",
    "chambers in its heart",
]
MEASURED = [
    ("how tall", "a giraffe"),
    ("how heavy", "an african elephant"),
    ("how long", "the Nile"),
    ("how deep", "Lake Baikal"),
    ("how fast", "a peregrine falcon"),
    ("how far", "Venus"),
    ("how high", "Mont Blanc"),
    ("how old", "the Earth"),
    ("how big", "the Pacific Ocean"),
    ("how cold", "Antarctica in winter"),
    ("how wide", "the Grand Canyon"),
    ("how long", "a day on Saturn"),
    ("how fast", "a hummingbird's wings"),
    ("how heavy", "the International Space Station"),
    ("how far", "the nearest star"),
]
CONCEPTS = [
    "a supernova",
    "an atom",
    "gravity",
    "democracy",
    "a tsunami",
    "evolution",
    "a glacier",
    "the stock market",
    "an enzyme",
    "a comet",
    "blockchain",
    "plate tectonics",
    "a sonnet",
    "the ozone layer",
    "a monsoon",
    "a neutron star",
    "a haiku",
]
COUNTED = [
    "players on a basketball team",
    "days in a leap year",
    "states in the USA",
    "bones in a cat",
    "teeth does an adult human have",
    "moons does Saturn have",
    "stars on the US flag",
    "countries in Africa",
    "symphonies did Beethoven write",
    "seats in the UK parliament",
    "chromosomes do humans have",
    "islands does Japan have",
    "elements in the periodic table",
]


def compose_facts(rng: random.Random, count: int) -> list[str]:
    """Who/what/when/where questions and search-style queries about real things."""
    shapes = [
        "what is the capital of {c}",
        "capital city {c_lower}",
        "what language is spoken in {c}?",
        "when was {f} born",
        "who was {f}",
        "{f_lower} famous for what",
        "what did {f} discover or invent",
        "where is {l}",
        "how tall is {l}",
        "when was {l} built",
        "{l_lower} history",
        "when did {e} start",
        "what caused {e}",
        "how many people died in {e}",
        "i'm curious what {f} is known for",
        "tell me about {l}",
        "who built {l}?",
        "what currency does {c} use",
        "how many {part} does {animal} have",
        "{measure} is {measured}",
        "{measure} is {measured}?",
        "what is {concept}",
        "explain what {concept} is",
        "how many {counted}",
        "is {concept} dangerous",
        "{animal_bare} {part} how many",
    ]
    rows: list[str] = []
    for index in range(count):
        shape = shapes[index % len(shapes)]
        country, famous = rng.choice(COUNTRIES), rng.choice(PEOPLE_FAMOUS)
        landmark, event = rng.choice(LANDMARKS), rng.choice(EVENTS)
        animal = rng.choice(ANIMALS)
        measure, measured = rng.choice(MEASURED)
        rows.append(
            shape.format(
                c=country,
                c_lower=country.lower(),
                f=famous,
                f_lower=famous.lower(),
                l=landmark,
                l_lower=landmark.removeprefix("the ").lower(),
                e=event,
                part=rng.choice(ANIMAL_PARTS),
                animal=animal,
                animal_bare=animal.split(" ", 1)[1],
                measure=measure,
                measured=measured,
                concept=rng.choice(CONCEPTS),
                counted=rng.choice(COUNTED),
            )
        )
    return rows


FORMS = [
    "poem",
    "short story",
    "song",
    "haiku",
    "limerick",
    "speech",
    "blog post",
    "letter",
    "toast",
    "fable",
    "diary entry",
    "dialogue",
]
THEMES = [
    "a lonely lighthouse keeper",
    "friendship",
    "the first day of school",
    "a talking fox",
    "winter mornings",
    "my grandmother's kitchen",
    "a robot who wants to dance",
    "the ocean",
    "moving to a new city",
    "a lost umbrella",
    "coffee",
    "a haunted library",
]
TASKS = [
    "plan my weekend",
    "organise my inbox",
    "prepare for a job interview",
    "start running",
    "learn to cook",
    "write a wedding toast",
    "decorate a small apartment",
    "save money on groceries",
    "prepare a presentation",
    "host a dinner party",
    "make new friends in a new city",
]


GREETINGS = [
    "hi",
    "hello",
    "hey there",
    "heya",
    "good evening",
    "howdy",
    "hiya",
    "morning!",
    "hey buddy",
    "greetings",
    "oh hi",
    "hallo",
]
FOLLOWUPS = [
    "how's it going?",
    "what's new?",
    "how is your day?",
    "nice to meet you",
    "long time no see",
    "are you there?",
    "how have you been?",
    "can we talk?",
    "i'm back",
    "thanks for earlier",
]
INVENTED_THINGS = [
    "board game",
    "superhero",
    "cocktail",
    "sport",
    "festival",
    "creature",
    "weekly routine",
    "logo idea",
    "dessert",
    "secret handshake",
    "theme park ride",
    "language for elves",
]


def compose_none(rng: random.Random, count: int) -> list[str]:
    """Writing, planning, advice and chit-chat requests: nothing to compute or look up."""
    shapes = [
        "write a {form} about {theme}",
        "can you write me a {form} about {theme}?",
        "compose a {form} on {theme}",
        "I need a {form} about {theme} for a class",
        "help me {task}",
        "any tips on how to {task}?",
        "make a plan to {task}",
        "give me {n} ideas to {task}",
        "write a {n} line {form} about {theme}",
        "tell me a story about {theme}",
        "could you draft something to help me {task}",
        "what's a good way to {task}",
        "{greeting}",
        "{greeting} {followup}",
        "what can I do to {task}",
        "design a {thing} for me",
        "invent a {thing} and describe it",
        "I'd love a {form} about {theme}, something short",
    ]
    rows: list[str] = []
    for index in range(count):
        shape = shapes[index % len(shapes)]
        rows.append(
            shape.format(
                form=rng.choice(FORMS),
                theme=rng.choice(THEMES),
                task=rng.choice(TASKS),
                n=rng.choice([3, 4, 5, 8, 10]),
                greeting=rng.choice(GREETINGS),
                followup=rng.choice(FOLLOWUPS),
                thing=rng.choice(INVENTED_THINGS),
            )
        )
    return rows


# --------------------------------------------------------------------------------------
# Held-out split: written separately; other shapes, other topics, more noise
# --------------------------------------------------------------------------------------

HELDOUT_MATH = """
My son had 23 crayons but lost 9 at school. how many does he have now?
Grandma baked 3 trays of 18 biscuits. How many biscuits did she bake?
A library got 145 new books and lent out 38 of them. How many new books are still there?
Olivia has 7 fish. She buys twice as many. How many fish did she buy?
we have 15 liters of juice and pour it into 3 bottles equally, how much in each
a cinema has 12 rows of 20 seats. how many seats?
Noah saved 35 dollars and his aunt gave him 15. How much does he have?
A shop sold 64 umbrellas on Monday, half as many on Tuesday. How many on Tuesday?
whats 87 minus 29
hmm 6 times 7 is what again
quick: 345 + 289
pls calculate 12.5 percent of 640
how much would 3 coffees at $4.20 cost
19 x 21
what's sixty divided by twelve
nine plus nine plus nine
seventeen times three?
eleven squared
what is the cube of 4
what's the square root of 625
(2 + 3)^2
7 * (8 - 3)
100/8
0.2 + 0.7
what is 48 percent of 250
a jacket was $120 and now it is 30% cheaper. new price?
if 8 workers share 2000 euros equally how much does each get
I walked 3.2 km in the morning and 4.5 km in the evening, total?
there were 40 people at the party and 13 left early, how many stayed
how many minutes are in 7 hours
what is 15 squared divided by 5
and what if we multiply that by 10?
and minus 8?
now add 100 to it
divide the result by 2
okay, what about times 6?
the answer plus 25?
Leo has 4 boxes of 25 cards. He gives away 30 cards. How many cards does he have left?
A tank holds 500 liters and is 40% full. How many liters are in it?
Amy is 9 years old. Her dad is 4 times her age. How old is her dad?
A recipe needs 250 g of flour per cake. How much flour for 6 cakes?
Sam wants to buy a bike for $180 and has saved $115. How much more does he need?
There are 32 students and each needs 3 pencils. How many pencils are needed?
a garden is 12 m long and 5 m wide, what is its area
what do you get if you halve 98
double 256 please
what is one third of 81
a quarter of 36 is?
what's 1 + 1
10 to the power of 6
5! / 3!
what is 2/5 of 35
what is 35 percent of 80 plus 12
fifty-two minus eighteen
a hundred plus a hundred and fifty
what's four hundred times three
I owe 3 friends 14 dollars each. how much do I owe in total?
A dozen eggs cost $3. How much do 4 dozen cost?
Ella types 45 words a minute. How many words in 8 minutes?
the bill is 86 dollars and we split it between 2 of us, how much each
i have 1000 and spend 275 then 140, what's left
what is 13 percent of 900
1/4 + 1/4
3 times 3 times 3 minus 1
how much is 15 percent tip on 72 dollars
what is 6 + 4 * 2
square root of 2 times square root of 2
A baker has 96 rolls and puts 8 in each bag. How many bags can he fill?
There are 5 cats and each cat has 4 legs. How many legs altogether?
Ruby had 60 beads. She used 24 for a necklace and 15 for a bracelet. How many beads are left?
subtract 45 from 200 then double it
what's 1.5 times 1.5
if a pen costs 2 dollars how much are 17 pens
A school bus carries 44 kids. How many buses for 176 kids?
what is seven eighths of 64
""".strip().splitlines()

HELDOUT_FACT = """
whats the capital of mongolia again
who wrote war and peace
when did the first world war begin
how high is kilimanjaro
who is the current king of the uk
what's the biggest animal that ever lived
where is the louvre
how many strings does a violin have
why do cats purr
what is the national animal of scotland
when was the euro introduced
who sang bohemian rhapsody
what does NASA stand for
what is the largest lake in africa
hey, who invented the light bulb, was it edison?
how far is mars from earth
who directed jurassic park
what is quantum entanglement
what's the melting point of iron
which is the most spoken language in the world
i was wondering where coffee originally comes from
what's the oldest tree in the world
who was the first person to climb everest
how many countries are in the european union
what is the capital of iceland
statue of liberty height in feet
when did the dinosaurs go extinct
what happened at chernobyl
who discovered america
what is the deepest lake on earth
what is the largest organ of the human body
where was the first olympics held
who wrote the theory of relativity
what year did world war 1 end
how old is the great pyramid of giza
what's the population of tokyo
who painted starry night
what do bees make besides honey
which planet has the most moons
how long does it take light from the sun to reach earth
when was the united nations founded
what is the largest bird in the world
who was julius caesar
whats the tallest tree species
where do pandas live in the wild
how many keys on a piano
what is the main language of quebec
who is known as the father of computers
what is the hardest natural substance
the great fire of london what year
when was youtube launched
who founded amazon
what is a solar eclipse
how many legs does a spider have
why do leaves change color in fall
where is mount kilimanjaro located
who built the taj mahal and why
what is the smallest country in the world
um so do sharks actually sleep or what
is pluto still a planet
what does a blue whale eat
when did the berlin wall go up
who was the first emperor of china
how fast can a cheetah run
what's the capital of south korea
where did tea originate
which ocean is the deepest
what's the distance from new york to los angeles in miles
who wrote hamlet
how many people live in brazil
what is the speed of sound
when did the roman republic become an empire
whats the longest bridge in the world
how hot does lava get
""".strip().splitlines()

HELDOUT_NONE = """
hey how are you doing
can you write a short poem for my mom's birthday
i need help writing an email to cancel a meeting
compose a lullaby about the stars
plan a 3 day trip to lisbon for me
give me 5 ideas for a science fair project
write a story about a detective who is afraid of the dark
what should I name my goldfish
help me come up with a plot twist for my novel
write a short speech for a retirement party
good night!
thank you, that helped a lot
make up a tongue twister
draft a text to my neighbor asking them to turn the music down
rewrite my bio so it sounds less boring
give me advice on talking to my teenager
write a scene where a knight meets a dragon who just wants tea
i want to start journaling, give me some prompts
plan a healthy breakfast for the week
write a sad poem about a broken umbrella
can you help me prepare for a salary negotiation
sketch out a podcast episode about urban gardening
write me a cheerful good morning message for my team
create a story for kids about a cloud that cannot rain
suggest themes for a 30th birthday party
help me say no to extra work politely
write a villain monologue
make a checklist for moving house
tell me something nice
i'm bored, entertain me
write a short ghost story for a campfire
compose a poem where every line starts with S
draft a linkedin post about my new job
give me a morning routine that isn't too hard
brainstorm names for a hiking club
write a letter from a cat to its owner
help me write vows for my wedding
write an ad for a lemonade stand
plan a date night at home
what's a good caption for a beach photo
make this sentence sound more polite: send me the file now
write a fable with a moral about patience
let's role play, you are a grumpy innkeeper
write the opening paragraph of a sci-fi novel
create 3 riddles for a treasure hunt
give me encouragement before my exam tomorrow
design a workout I can do in a hotel room
write a funny poem about my dog stealing socks
help me organise my thoughts about changing careers
write a thank-you card for a nurse
outline a short film about two strangers on a train
yo
sup
write a sea shanty about debugging code
suggest a reading list for a book club
help me write a complaint about a late delivery
write a story in which a girl named Ada finds a secret door
plan a picnic for 6 people
give me conversation starters for a first date
write a short bio for my art exhibition
create a bedtime routine for a toddler
write an encouraging note for a friend who failed a test
turn this list into a paragraph: eggs, milk, bread
what can I do this rainy afternoon
write 4 lines of rhyming verse about tacos
help me plan a study timetable for 6 subjects
make up a name and backstory for a tavern
write a short story that ends with the word goodbye
rewrite this in simpler english for kids
write a kind reply to a negative review of my cafe
invent a holiday and describe how people celebrate it
""".strip().splitlines()

# A second held-out batch, written after the first measurement. The first batch's errors
# (numeric facts such as "how many keys on a piano", greetings, "design/invent a ...") led to
# new *train* shapes; since that looked at held-out rows, this fresh batch keeps the
# held-out score honest. It was not looked at before the train data was frozen.
HELDOUT_MATH_B = """
Zoe had 52 stamps, traded away 17 and got 9 back. How many stamps does she have?
a crate has 18 bottles, how many bottles in 7 crates
what's 3 quarters of 120
how much is 45 times 12
Carlos drives 60 km each day for 5 days. How far does he drive?
a pack of gum costs 1.25. what do 8 packs cost
work out 7 + 8 + 9 + 10
I had 300 euros, rent took 210. what remains
if a dozen roses cost 30 dollars, what does one rose cost
what is 64 divided by 16 times 3
two hundred minus seventy-five
what's 11 percent of 3000
there are 9 teams with 11 players each, how many players
how much is 2.75 + 3.5
our class raised 420 dollars and split it across 6 charities equally. how much per charity
triple 14
what is 8 squared minus 2 cubed
Tina ate 3 of her 10 grapes and then 2 more. How many grapes are left?
half of 3 hundred
if 5 pens cost 15 dollars, how much is one pen
99 * 99
20 - 4 * 3
what's 30% off 90
a marathon runner did 42 km in 4 equal parts, how long was each part
compute 1000 divided by 125
""".strip().splitlines()

HELDOUT_FACT_B = """
who was the first female prime minister of the uk
what is the capital of peru
how many wheels does a tricycle have
what's the tallest volcano in the solar system
when did the internet become public
where is the dead sea
what does the heart do
how heavy is a blue whale
who invented the printing press
how long is a marathon in miles
what is the largest city in canada
which country makes the most coffee
how many planets are in our solar system
what are the colors of the olympic rings
who wrote the little prince
when did queen victoria die
what is an electron
how big is the moon compared to earth
did vikings really have horned helmets
where does the amazon river end
how many hours of sleep do koalas get
what is the national dish of italy
which mountain range has k2
what year was the first car made
why is the ocean salty
""".strip().splitlines()

HELDOUT_NONE_B = """
write a short note to welcome my new neighbour
can you help me plan a baby shower
good afternoon :)
i need a funny name for my fantasy football team
tell me a story about an old clock that stops time
help me write a polite reminder about an unpaid invoice
draft 3 tweets announcing our bakery opening
write a poem about the smell of rain on hot stone
how do I tell my friend I can't come to her party
compose a short ballad about a lost sailor
give me a plan to learn guitar in 2 months
hello again, missed me?
write a story about twins who swap places for a day
make a to-do list for spring cleaning
write a motivational speech for a losing football team
what's a nice way to start a toast
i feel nervous about tomorrow
write an email asking my professor for an extension
create a quiz night theme
can you cheer me up
write a fairy tale about a princess who hates castles
help me write a birthday message for my coworker
draft a short bio for my dating profile
suggest a cozy evening plan for two
write a children's rhyme about counting sheep
""".strip().splitlines()

TRAIN_COMPOSED_PER_CLASS = 260


def build_rows(data_dir: Path = DEFAULT_DATA_DIR) -> list[dict[str, str]]:
    """Assemble the splits, drop duplicates, and keep held-out texts out of train."""
    rng = random.Random(SEED)
    train: list[tuple[str, str]] = (
        [
            (text, "math")
            for text in TRAIN_MATH_WRITTEN + compose_math(rng, TRAIN_COMPOSED_PER_CLASS)
        ]
        + [
            (text, "fact")
            for text in TRAIN_FACT_WRITTEN + compose_facts(rng, TRAIN_COMPOSED_PER_CLASS)
        ]
        + [
            (text, "none")
            for text in TRAIN_NONE_WRITTEN + compose_none(rng, TRAIN_COMPOSED_PER_CLASS)
        ]
    )
    heldout: list[tuple[str, str]] = (
        [(text, "math") for text in HELDOUT_MATH]
        + [(text, "fact") for text in HELDOUT_FACT]
        + [(text, "none") for text in HELDOUT_NONE]
        + [(text, "math") for text in HELDOUT_MATH_B]
        + [(text, "fact") for text in HELDOUT_FACT_B]
        + [(text, "none") for text in HELDOUT_NONE_B]
    )
    seen: set[str] = set()
    rows: list[dict[str, str]] = []
    # Held-out rows are claimed first so that a composed train row can never duplicate one.
    for split, pairs in (("heldout", heldout), ("train", train)):
        for text, label in pairs:
            key = " ".join(text.lower().split())
            if not key or key in seen:
                continue
            seen.add(key)
            rows.append(
                {"text": text.strip(), "label": label, "split": split, "source": "synthetic"}
            )
    rows.sort(key=lambda row: 0 if row["split"] == "train" else 1)  # stable: train first
    # Real phrasing (GSM8K, NQ-open) and hand-written chat/writing rows, split by a fixed
    # hash of their text (scripts/router_real_data.py). A real row equal to a synthetic one
    # is dropped, so no text is in two splits.
    for row in real_rows(data_dir):
        key = " ".join(row["text"].lower().split())
        if key in seen:
            continue
        seen.add(key)
        rows.append(row)
    return rows


def main() -> None:
    """Write the jsonl file and print how many rows each split and label got."""
    data_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DATA_DIR
    if not (data_dir / "gsm8k_train.jsonl").is_file():
        sys.exit(f"Real data not found in {data_dir}; pass the folder holding gsm8k_train.jsonl.")
    rows = build_rows(data_dir)
    OUTPUT_PATH.parent.mkdir(parents=True, exist_ok=True)
    with OUTPUT_PATH.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    counts: dict[tuple[str, str], int] = {}
    for row in rows:
        counts[(row["split"], row["label"])] = counts.get((row["split"], row["label"]), 0) + 1
    for (split, label), count in sorted(counts.items()):
        print(f"{split:8} {label:5} {count}")
    print(f"wrote {len(rows)} rows to {OUTPUT_PATH}")


if __name__ == "__main__":
    main()
