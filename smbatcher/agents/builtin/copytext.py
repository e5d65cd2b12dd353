"""The copy: the words on the page for each kind of business, and picking the kind.

Eight kinds (software, studio, food, wellness, nature, advisory, learning,
travel) each hold their taglines, headings, feature blurbs, quotes, FAQs and
calls to action, with ``{name}`` filled in by ``design.py``. ``pick_kind``
matches the domain's words (then the batch brief's) against each kind's
hints, and falls back to a seeded draw. Edits to this text change every site
built from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .names import brand_label
from .seeds import Seed


@dataclass(frozen=True)
class Kind:
    """The copy for one kind of business; ``{name}`` is filled in later."""

    key: str
    hints: tuple[str, ...]
    features_label: str
    features_headings: tuple[str, ...]
    taglines: tuple[str, ...]
    hero_headings: tuple[str, ...]
    hero_texts: tuple[str, ...]
    hero_buttons: tuple[str, ...]
    features: tuple[tuple[str, str], ...]
    about_texts: tuple[str, ...]
    quotes: tuple[tuple[str, str], ...]
    faqs: tuple[tuple[str, str], ...]
    cta_headings: tuple[str, ...]
    cta_texts: tuple[str, ...]


KINDS = (
    Kind(
        key="software",
        hints=("dev", "code", "app", "api", "lab", "labs", "stack", "byte", "bit", "data", "cloud", "tech",
               "soft", "logic", "sys", "ops", "git", "bot", "net", "web", "io", "ai", "tool", "tools"),
        features_label="Features",
        features_headings=("What {name} does", "Built for the way you work", "Everything in one place"),
        taglines=("Calm software for focused teams", "Tools that stay out of your way",
                  "Ship smaller, ship sooner", "Reliable software, plainly built"),
        hero_headings=("Software that respects your time", "Do the work, skip the busywork",
                       "{name} keeps the small things running"),
        hero_texts=("{name} turns the chores between idea and release into a few quiet steps, so your team "
                    "can spend the day on the part that matters.",
                    "Fast to set up, easy to read, and built to keep working when nobody is watching. "
                    "{name} is the tool we wanted for ourselves."),
        hero_buttons=("See how it works", "Explore the features", "Start a project"),
        features=(("Fast by default", "Pages load in a blink and builds finish before your coffee does. "
                   "Speed is something we test for, not an afterthought."),
                  ("Plain-language errors", "When something goes wrong you get one clear sentence and the "
                   "exact command that fixes it."),
                  ("Works offline", "Your work keeps going on a train, in a basement or on a flaky hotel "
                   "connection."),
                  ("Safe to undo", "Every change is recorded, so trying an idea never risks the version "
                   "that already works."),
                  ("Small and readable", "A codebase a new colleague can read in an afternoon, with tests "
                   "that explain the intent.")),
        about_texts=("{name} started as a weekend fix for a problem we kept hitting at work. It grew slowly, "
                     "shaped by the people who use it every day, and it still fits in your head.",
                     "We are a small team that prefers boring technology, careful defaults and honest "
                     "documentation. {name} is what happens when those habits become a product."),
        quotes=(("We replaced three scripts and a wiki page with {name}. Monday mornings are quiet now.",
                 "Priya N., platform engineer"),
                ("The first tool in years that did exactly what the documentation said.",
                 "Marcus L., tech lead"),
                ("Setup took ten minutes and we have not thought about it since. That is the highest "
                 "praise I have.", "Ana S., founder")),
        faqs=(("Do I need an account?", "No. {name} runs on your own machine and keeps your data there."),
              ("Can I try it before committing?", "Yes. Start with a single project and grow from there; "
               "nothing locks you in."),
              ("How do updates work?", "Small, frequent releases with clear notes. You choose when to upgrade."),
              ("Is there support?", "Real people answer every message, usually within one working day.")),
        cta_headings=("Ready when you are", "Try {name} this week", "Let us build something small and good"),
        cta_texts=("Tell us what you are working on and we will reply with a plan, not a sales pitch.",
                   "Drop us a line: we read every message and answer the same week."),
    ),
    Kind(
        key="studio",
        hints=("studio", "design", "craft", "art", "arts", "ink", "print", "photo", "film", "media", "brand",
               "type", "paper", "form", "made", "works", "pixel", "canvas", "color", "colour", "draw", "frame"),
        features_label="Services",
        features_headings=("What we make", "How we can help", "Our services"),
        taglines=("Thoughtful design for brave ideas", "Identity, print and web, made with care",
                  "Small studio, big attention to detail"),
        hero_headings=("Design that feels like you", "We make ideas look as good as they are",
                       "Clear ideas, beautifully made"),
        hero_texts=("{name} is an independent studio shaping brands, books and websites for people who "
                    "care about the details.",
                    "From the first sketch to the final file, {name} keeps the work personal, the process "
                    "open and the result unmistakably yours."),
        hero_buttons=("See our services", "View the work", "Start a conversation"),
        features=(("Brand identity", "Names, marks and visual systems that stay recognisable from a "
                   "business card to a billboard."),
                  ("Websites", "Fast, accessible sites that are easy to update and pleasant to read on "
                   "any screen."),
                  ("Print and packaging", "Books, posters and boxes with paper, colour and finish chosen "
                   "to be held."),
                  ("Illustration", "Drawings that explain, decorate or simply delight, in a style made "
                   "for your project."),
                  ("Art direction", "A steady hand across photography, type and layout, so every piece "
                   "feels like one family.")),
        about_texts=("{name} is a small studio with a simple rule: fewer projects, more care. We work "
                     "directly with you from brief to delivery, with no hand-offs and no surprises.",
                     "We started {name} to make work we would be proud to sign. Today we partner with "
                     "founders, publishers and local makers who want design that outlasts a trend."),
        quotes=(("They listened more than they talked, and the result looked like us on our best day.",
                 "Hannah K., bookshop owner"),
                ("Our new identity paid for itself within a season. People finally remember our name.",
                 "Tomás R., restaurateur"),
                ("Calm, organised and genuinely talented. We would hire {name} again tomorrow.",
                 "Leila M., publisher")),
        faqs=(("How long does a project take?", "Most identities take four to eight weeks; a website "
               "usually six to ten."),
              ("Do you work with small businesses?", "Yes. Many of our favourite projects started with "
               "a one-person company."),
              ("What do you need from us?", "An honest conversation about your goals, and someone who "
               "can make decisions."),
              ("Do we own the final files?", "Always. You receive every source file and full rights to "
               "use them.")),
        cta_headings=("Have a project in mind?", "Let us make something together", "Tell us about your idea"),
        cta_texts=("We take on a handful of projects each season. Write to us and we will answer within "
                   "two working days.",
                   "Send a few lines about what you need; we will reply with questions, ideas and an "
                   "honest estimate."),
    ),
    Kind(
        key="food",
        hints=("cafe", "coffee", "bake", "baker", "bakery", "kitchen", "food", "tea", "bistro", "brew", "bread",
               "table", "taste", "eat", "eats", "chef", "pizza", "grill", "sweet", "honey", "cook", "deli",
               "wine", "cake", "spice", "soup", "noodle", "taco", "bean", "roast", "oven"),
        features_label="Menu",
        features_headings=("From our kitchen", "What we serve", "On the menu"),
        taglines=("Good food, made slowly", "Fresh every morning, friendly all day",
                  "Seasonal cooking, honest prices"),
        hero_headings=("A table is waiting for you", "Made fresh, served warm", "Come hungry, leave happy"),
        hero_texts=("{name} bakes, brews and cooks from scratch every day, with ingredients from growers "
                    "we know by name.",
                    "Pull up a chair. {name} is a neighbourhood place for long breakfasts, quick lunches "
                    "and the best coffee on the street."),
        hero_buttons=("See the menu", "Plan your visit", "Find out more"),
        features=(("Morning bakes", "Sourdough, buns and pastries out of the oven before the doors open."),
                  ("Seasonal plates", "A short menu that changes with the market, cooked to order."),
                  ("Coffee and tea", "Beans roasted nearby and loose-leaf teas brewed with care."),
                  ("Catering", "Platters and cakes for offices, birthdays and quiet celebrations."),
                  ("Take it home", "Bread, jars and sweets packed to carry when you are in a hurry.")),
        about_texts=("{name} began with one oven and a stubborn belief that everyday food deserves the "
                     "same care as a feast. The oven is bigger now; the belief has not changed.",
                     "We are a family-run kitchen. We cook what is in season, waste as little as we can, "
                     "and learn the names of our regulars."),
        quotes=(("The bread alone is worth the trip. The people make you want to stay.",
                 "Sam O., regular since day one"),
                ("Our office lunch order is the highlight of every Friday.", "Grace T., office manager"),
                ("Honest food, fair prices and a warm welcome every single time.", "Dev P., neighbour")),
        faqs=(("Do you take reservations?", "For groups of six or more, yes. Smaller tables are first "
               "come, first served."),
              ("Are there vegan options?", "Every day. Ask us and we will point out what suits you."),
              ("Can you cater an event?", "Yes, with a week's notice for most orders."),
              ("Do you have gluten-free bakes?", "A few each day, baked separately to keep them safe.")),
        cta_headings=("Hungry yet?", "Plan your next visit", "Let us cook for you"),
        cta_texts=("Write to us for bookings, catering or just to say hello.",
                   "Questions about the menu, a special order or a table for a crowd? Send us a note."),
    ),
    Kind(
        key="wellness",
        hints=("yoga", "fit", "fitness", "health", "care", "calm", "zen", "spa", "mind", "lotus", "well",
               "body", "breath", "pilates", "heal", "clinic", "therapy", "move", "balance", "sleep",
               "dance", "gym", "physio", "pulse", "glow"),
        features_label="Classes",
        features_headings=("Ways to feel better", "Find your practice", "What we offer"),
        taglines=("Move well, breathe easy", "A calmer place to grow stronger",
                  "Care that meets you where you are"),
        hero_headings=("Feel at home in your body", "Slow down and breathe", "Strength, calm and a little joy"),
        hero_texts=("{name} offers small classes and personal sessions for every level, in a space "
                    "designed to help you switch off.",
                    "Whether you are starting out or starting again, {name} helps you build habits that "
                    "feel good and last."),
        hero_buttons=("Explore classes", "Book a first visit", "Find your practice"),
        features=(("Small group classes", "Never more than twelve people, so every teacher knows your "
                   "name and your goals."),
                  ("Private sessions", "One-to-one time to work on an injury, a goal or simply your own pace."),
                  ("Beginners welcome", "A gentle four-week start that explains the basics without the jargon."),
                  ("Breath and rest", "Evening sessions for sleep, stress and the kind of tired a weekend "
                   "cannot fix."),
                  ("Online library", "Short guided sessions to follow at home when you cannot make it in.")),
        about_texts=("{name} was founded by teachers who wanted a studio that felt less like a gym and "
                     "more like a living room. Everyone is welcome; nobody is judged.",
                     "We believe wellbeing is built in small, regular steps. Our teachers are trained, "
                     "insured and, above all, kind."),
        quotes=(("I came for my back and stayed for the people. Best decision I made this year.",
                 "Ruth A., member for two years"),
                ("Patient teachers and a calm room. I leave every class lighter.", "Kwame B., member"),
                ("The beginner course made me feel capable instead of clumsy.", "Ines F., new member")),
        faqs=(("I have never done this before. Is that fine?", "Absolutely. Most of our members started "
               "with the beginner course."),
              ("What should I bring?", "Comfortable clothes and water. Mats and props are provided."),
              ("Can I pause my membership?", "Yes, for holidays or illness, at no cost."),
              ("Do you offer gift cards?", "Yes, for single classes or a full month.")),
        cta_headings=("Your first class is on us", "Ready to begin?", "Come and try a class"),
        cta_texts=("Write to us with any questions and we will help you choose the right place to start.",
                   "Tell us a little about yourself and we will suggest a class that fits."),
    ),
    Kind(
        key="nature",
        hints=("green", "leaf", "garden", "farm", "bloom", "flower", "tree", "eco", "plant", "forest", "seed",
               "grow", "moss", "fern", "oak", "root", "roots", "field", "meadow", "earth", "solar",
               "river", "bee", "wild", "sprout", "herb", "petal", "acorn", "willow", "orchard"),
        features_label="Services",
        features_headings=("What we grow", "How we help things grow", "Our work"),
        taglines=("Growing good things, season by season", "Green spaces, lovingly kept",
                  "Rooted in care for the land"),
        hero_headings=("Bring a little green home", "Gardens that grow with you", "Good things take root here"),
        hero_texts=("{name} designs, plants and tends gardens, balconies and shared green spaces with a "
                    "light touch and native plants.",
                    "From a single window box to a community orchard, {name} helps living things thrive "
                    "with less water, less waste and more joy."),
        hero_buttons=("See what we do", "Plan a garden", "Learn more"),
        features=(("Garden design", "Planting plans that suit your soil, your light and how you actually "
                   "use the space."),
                  ("Seasonal care", "Regular visits to prune, feed and tidy, so the garden looks after "
                   "itself in between."),
                  ("Native plants", "Hardy local species that feed pollinators and shrug off dry summers."),
                  ("Workshops", "Hands-on afternoons on composting, seed saving and growing food in "
                   "small spaces."),
                  ("Water wise", "Rain capture and smart watering that cut the bill without cutting "
                   "the blooms.")),
        about_texts=("{name} began in a borrowed allotment with a lot of enthusiasm. Today we care for "
                     "gardens across the area, always with peat-free soil and no harsh chemicals.",
                     "We think every patch of ground can do more for people and for wildlife. {name} "
                     "exists to prove it, one garden at a time."),
        quotes=(("Our tired yard turned into the place we spend every evening.", "Joe and Mia W., homeowners"),
                ("They knew which plants would survive our windy balcony. All of them did.",
                 "Aiko S., flat dweller"),
                ("The workshop gave our school garden club a real sense of purpose.", "Mr. Adeyemi, teacher")),
        faqs=(("Do you work on small spaces?", "Yes. Balconies and courtyards are some of our favourite "
               "projects."),
              ("Which areas do you cover?", "We work locally, so we can visit often and keep travel light."),
              ("Do you use pesticides?", "No. We rely on healthy soil, good plant choices and patience."),
              ("When is the best time to start?", "Autumn and early spring, but planning can begin any time.")),
        cta_headings=("Let us grow something", "Start your garden", "Ready to get your hands dirty?"),
        cta_texts=("Tell us about your space and we will suggest a first step.",
                   "Send us a few words about your garden and we will reply with ideas and a simple quote."),
    ),
    Kind(
        key="advisory",
        hints=("law", "legal", "consult", "consulting", "advice", "advisory", "advisors", "finance", "tax",
               "account", "partners", "capital", "group", "counsel", "audit", "invest", "wealth", "insure",
               "estate", "firm", "trust", "ledger", "fund", "bank", "pro", "assoc"),
        features_label="Services",
        features_headings=("How we can help", "Our services", "Expertise you can rely on"),
        taglines=("Clear advice, no jargon", "Steady counsel for important decisions",
                  "Expertise that speaks plainly"),
        hero_headings=("Sound advice for the decisions that matter", "Answers you can act on",
                       "Complex questions, clear answers"),
        hero_texts=("{name} helps individuals and small businesses make confident decisions, with fixed "
                    "fees and advice written in plain language.",
                    "For more than a decade {name} has been the calm voice in the room: careful, direct "
                    "and on your side."),
        hero_buttons=("Our services", "Book a consultation", "How we work"),
        features=(("Initial review", "A focused first meeting to understand your situation and outline "
                   "your options."),
                  ("Ongoing advice", "A named adviser who knows your history and answers the phone."),
                  ("Planning", "Practical plans for growth, succession and the years ahead."),
                  ("Compliance", "Deadlines tracked, paperwork handled, nothing left to chance."),
                  ("Second opinions", "An independent look at a decision before you sign.")),
        about_texts=("{name} is an independent practice. We keep our client list small, so every client "
                     "gets senior attention and an answer the same day.",
                     "We believe good advice should be understandable. Every recommendation from {name} "
                     "comes with the reasoning behind it and the costs up front."),
        quotes=(("For the first time I understood every line of my own paperwork.", "Daniel F., business owner"),
                ("Responsive, precise and refreshingly human.", "Olga V., director"),
                ("They told us what we needed to hear, not what we wanted to hear. It saved us.",
                 "Chen W., co-founder")),
        faqs=(("How are your fees set?", "Fixed fees, agreed in writing before any work begins."),
              ("Do you work remotely?", "Yes. Most meetings happen by video, and we visit when it helps."),
              ("Is the first conversation free?", "Yes, the first half hour is always without charge."),
              ("How quickly do you reply?", "Within one working day, usually much sooner.")),
        cta_headings=("Let us talk it through", "Book a first conversation", "Questions? Ask us"),
        cta_texts=("Send a short note about your situation and we will arrange a time to talk.",
                   "Write to us in confidence. A senior adviser reads every message."),
    ),
    Kind(
        key="learning",
        hints=("learn", "school", "academy", "tutor", "study", "edu", "class", "course", "teach", "lesson",
               "book", "books", "read", "math", "maths", "skill", "skills", "mentor", "kids", "language",
               "guide", "library", "quiz", "scholar", "campus"),
        features_label="Courses",
        features_headings=("Ways to learn", "Our courses", "Learning, made personal"),
        taglines=("Learning that sticks", "Patient teaching for curious minds", "Every learner, their own pace"),
        hero_headings=("Learn something new this season", "Curiosity, meet a good teacher",
                       "Confidence grows one lesson at a time"),
        hero_texts=("{name} offers small classes and one-to-one tutoring that turn hard subjects into "
                    "something you can enjoy.",
                    "At {name}, experienced teachers build lessons around each learner, so progress feels "
                    "steady and earned."),
        hero_buttons=("Browse courses", "Book a trial lesson", "Find your course"),
        features=(("One-to-one tutoring", "Lessons shaped around one learner's goals, gaps and pace."),
                  ("Small classes", "Groups of six or fewer, so everyone gets heard and helped."),
                  ("Exam preparation", "Calm, structured practice with feedback that shows what to fix next."),
                  ("Evening courses", "Practical skills for adults, scheduled around a working day."),
                  ("Progress reports", "Short written updates after every block, with clear next steps.")),
        about_texts=("{name} was started by two teachers who missed having time for each student. Small "
                     "groups gave that time back, and results followed.",
                     "We believe anyone can learn almost anything with a patient teacher and a good plan. "
                     "{name} provides both."),
        quotes=(("My daughter went from dreading maths to asking for extra problems.", "Fatima H., parent"),
                ("Clear, encouraging and properly prepared. I passed with room to spare.", "Leo D., student"),
                ("The evening course gave me a new skill and a new circle of friends.",
                 "Beatriz C., adult learner")),
        faqs=(("How do I pick the right level?", "Book a free trial lesson and we will recommend a "
               "starting point."),
              ("Can lessons be online?", "Yes, every course is available online or in person."),
              ("What if we miss a lesson?", "Give us a day's notice and we will reschedule it."),
              ("Do you teach adults?", "Yes, about a third of our learners are adults.")),
        cta_headings=("Start learning this week", "Book a trial lesson", "Questions about a course?"),
        cta_texts=("Tell us who is learning and what they want to achieve; we will suggest a course.",
                   "Write to us and a teacher, not a salesperson, will reply."),
    ),
    Kind(
        key="travel",
        hints=("travel", "trip", "trips", "trail", "camp", "hike", "sea", "surf", "mountain", "peak", "tour",
               "tours", "voyage", "journey", "island", "coast", "wander", "route", "map", "nomad", "sail",
               "boat", "ride", "bike", "cycle", "north", "south", "road", "summit", "harbor", "harbour"),
        features_label="Trips",
        features_headings=("Where we go", "Ways to explore", "Our adventures"),
        taglines=("Small groups, big horizons", "Adventures planned with care", "Go further, travel lighter"),
        hero_headings=("The long way round is the best way", "Find your next horizon",
                       "Adventure, thoughtfully planned"),
        hero_texts=("{name} leads small-group trips on foot, by bike and by boat, with local guides and "
                    "time to actually look around.",
                    "From weekend escapes to month-long journeys, {name} handles the details so you can "
                    "enjoy the view."),
        hero_buttons=("See the trips", "Plan a journey", "Start exploring"),
        features=(("Guided walks", "Day hikes and multi-day treks at a pace that leaves room for lunch "
                   "with a view."),
                  ("Cycling routes", "Quiet roads, good bikes and a support van for tired legs."),
                  ("Coastal trips", "Sea kayaking, island hopping and evenings by the water."),
                  ("Tailor-made", "A journey planned around your dates, your pace and your interests."),
                  ("Low-impact travel", "Trains where possible, local stays and guides paid fairly.")),
        about_texts=("{name} grew out of years of planning trips for friends. We still travel every route "
                     "ourselves before we offer it to anyone else.",
                     "We keep groups small and footprints light. {name} works with local guides who know "
                     "the places, and the people, best."),
        quotes=(("Every detail was handled, and we still felt like explorers.", "Nadia and Ben, travellers"),
                ("The best guide I have ever had, on the best walk of my life.", "Oliver J., hiker"),
                ("Beautiful routes, good company and not a single wasted day.", "Mei L., cyclist")),
        faqs=(("How fit do I need to be?", "Each trip has a clear grade; we will help you choose one "
               "that suits you."),
              ("How big are the groups?", "Twelve travellers at most, often fewer."),
              ("What is included?", "Guides, stays, most meals and all transport during the trip."),
              ("Can you plan a private trip?", "Yes, for families, friends and teams.")),
        cta_headings=("Where to next?", "Let us plan your trip", "Ready for an adventure?"),
        cta_texts=("Tell us where you dream of going and when; we will send ideas within a week.",
                   "Write to us with your dates and we will suggest a trip that fits."),
    ),
)

FEATURE_INTROS = (
    "Three things {name} does especially well.",
    "A few of the ways {name} can help.",
    "Where {name} puts its time and care.",
)

FOOTER_NOTES = (
    "Independent and proudly small.",
    "Made with care, one detail at a time.",
    "Thank you for stopping by.",
    "Built to last, kept simple.",
)

# Words too common to flavour copy with, and manifest vocabulary (a batch
# manifest is mostly headings, domain lists and instructions to agents).
_STOPWORDS = frozenset(
    """about above after again against agent agents all also and any are batch because been before being
    below between both brief build built but can could design designs did does doing domain domains down
    during each every few for from further had has have having here how implement into its just like make
    more most must not now only other our out over own same should site sites some such than that the their
    them then there these they this those through under until very was were what when where which while who
    why will with would you your website websites page pages please each list""".split()
)


def brief_keywords(brief: str, limit: int = 3) -> list[str]:
    """A few distinctive words of the batch brief, in order of appearance.

    Headings, list items and tables are skipped: in a manifest they hold the
    domain list and the metadata, not the flavour.
    """
    words: list[str] = []
    for line in brief.splitlines():
        stripped = line.strip()
        if not stripped or stripped[0] in "#-*|>`" or stripped[:2].rstrip(".").isdigit():
            continue
        for word in re.findall(r"[A-Za-z][A-Za-z'-]{3,}", stripped):
            lowered = word.lower().strip("'-")
            if len(lowered) >= 4 and lowered not in _STOPWORDS and lowered not in words:
                words.append(lowered)
                if len(words) == limit:
                    return words
    return words


def pick_kind(seed: Seed, domain: str, brief_words: list[str]) -> Kind:
    """The kind of business the domain suggests, else one drawn from its hash."""
    tokens = re.split(r"[^a-z0-9]+", domain.lower())
    brand = brand_label(domain)
    for kind in KINDS:
        # Whole labels and dash-separated words first, then hints inside a
        # joined word ("greenleaf"), skipping short hints that match anywhere.
        if any(token in kind.hints for token in tokens[:-1] if token):
            return kind
    for kind in KINDS:
        if any(len(hint) >= 4 and hint in brand for hint in kind.hints):
            return kind
    for kind in KINDS:
        # "bakeries" -> "bake": a prefix match is enough for the brief's words.
        if any(word.startswith(hint) for word in brief_words for hint in kind.hints if len(hint) >= 4):
            return kind
    top_level = tokens[-1] if tokens else ""
    for kind in KINDS:
        if top_level in kind.hints:
            return kind
    return seed.choice("kind", KINDS)

