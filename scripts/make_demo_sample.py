#!/usr/bin/env python3
"""Write the bundled demo data set: socialdesk/demo/data/sample.jsonl.

One fictional week (2026-11-16 to 2026-11-22) of social traffic for
"Brightkettle", an invented maker of kettles, coffee machines and toasters with
a bean subscription ("Brightkettle Beans") and an app. Every post, person, shop,
order number and address is made up; e-mail addresses use example.com /
example.org and phone numbers sit in the +44 7700 900xxx drama range.

    python3 scripts/make_demo_sample.py

Standard library only. All randomness comes from one Random(7) consumed in a
fixed order, so re-running gives a byte-identical file; change a text or add a
thread and the times/handles of everything after it shift, which is fine.
"""
# Post texts stay on one line each so they read (and grep) as they will appear.
# ruff: noqa: E501

import json
import random
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

SEED = 7
OUT_PATH = Path(__file__).resolve().parent.parent / "socialdesk" / "demo" / "data" / "sample.jsonl"
FIRST_DAY, LAST_DAY = date(2026, 11, 16), date(2026, 11, 22)

BRAND_HANDLE = {
    "x": "brightkettle",
    "instagram": "brightkettle",
    "facebook": "Brightkettle",
    "reddit": "u/brightkettle_team",
    "email": "care@brightkettle.example",
}
BRAND_NAME = {"x": "Brightkettle", "instagram": "Brightkettle", "facebook": "Brightkettle",
              "email": "Brightkettle Care"}
BRAND_FOLLOWERS = {"x": 48210, "instagram": 112400, "facebook": 65300}

# Local-time weights: quiet small hours, a breakfast bump, busy lunch and evening.
HOUR_WEIGHTS = [2, 1, 1, 0.5, 0.5, 1, 3, 6, 8, 9, 9, 9, 10, 9, 8, 8, 8, 9, 10, 10, 9, 8, 6, 4]
# Monday is the complaint-heavy day; weekends are a little calmer.
DAY_WEIGHTS = [1.15, 1.0, 1.0, 1.0, 0.9, 0.8, 0.85]


# --------------------------------------------------------------------------
# Thread notation. A thread is a list of steps; the script picks the people and
# the times. Roles: "c" is the thread's customer, "o" another customer chiming
# in, "b" the brand account. A private step is a DM / Messenger / IG direct
# message; on email every step is private anyway.
#
# Placeholders filled per thread: {first} (the customer's first name), {order},
# {phone} (international), {phone_local}, {email}.
#
# Step options: delay= minutes after the previous step (else drawn at random),
# parent= index of the step it answers (else the previous public step for a
# public post, the previous step of any kind for a private one), lang=, ooo=
# (deliver this line ahead of its parent).
# --------------------------------------------------------------------------

def c(text, **opts):
    return ("c", False, text, opts)


def cdm(text, **opts):
    return ("c", True, text, opts)


def other(text, **opts):
    return ("o", False, text, opts)


def b(text=None, **opts):
    # text=None: a canned acknowledgement, as real desks use for first replies.
    return ("b", False, text, opts)


def bdm(text, **opts):
    return ("b", True, text, opts)


def T(channel, *steps, who=None, when=None, sub=None):
    # when: None (any time), (first_hour, last_hour) in the author's local time,
    # or a fixed UTC "YYYY-MM-DDTHH:MM[:SS]" for posts that quote a day or time.
    return {"channel": channel, "steps": list(steps), "who": who, "when": when, "sub": sub}


CANNED_ACK = {
    "x": [
        "Sorry to hear that, {first}. We've sent you a DM so we can put this right.",
        "Hi {first}, that's not the experience we want you to have. Check your DMs and we'll sort it from there.",
        "Thanks for letting us know, {first}. We've sent you a DM 💛",
        "Oh no, sorry {first}! We've dropped you a DM to get this fixed.",
    ],
    "facebook": [
        "Hi {first}, we're sorry to hear this. We've sent you a private message so we can help.",
        "Sorry {first}, that's not good enough. Please check your messages, we've been in touch.",
    ],
    "instagram": [
        "Oh no {first}! We've sent you a DM 💛",
        "So sorry about this! Check your DMs, we'll sort it 🙏",
    ],
}


# --------------------------------------------------------------------------
# People
# --------------------------------------------------------------------------

FIRST_NAMES = [
    "Abi", "Adele", "Ahmed", "Alfie", "Amara", "Ben", "Beth", "Callum", "Chloe", "Dan",
    "Dev", "Ella", "Emeka", "Erin", "Faye", "Finn", "Grace", "Hamza", "Hannah", "Imran",
    "Isla", "Jack", "Jade", "Jamal", "Jess", "Kai", "Kate", "Kieran", "Laila", "Leo",
    "Lily", "Luke", "Maddie", "Mei", "Mo", "Nadia", "Nathan", "Niamh", "Olly", "Orla",
    "Paul", "Pippa", "Rhys", "Rosa", "Ruth", "Sam", "Sana", "Sean", "Sophie", "Stan",
    "Tara", "Theo", "Una", "Vik", "Wendy", "Will", "Yasmin", "Zara", "Zoe", "Hugo",
]
SURNAMES = [
    "Abbott", "Achebe", "Ainsworth", "Baxendale", "Birtles", "Bramwell", "Carrick", "Chaudry",
    "Colville", "Dacosta", "Delaney", "Entwistle", "Fairclough", "Farrow", "Greaves", "Hadley",
    "Halloran", "Hussain", "Ingram", "Jaffrey", "Kowalczyk", "Lattimer", "Lindqvist", "Lomax",
    "Maddox", "Mahony", "Marchetti", "Moorcroft", "Nwosu", "Oakes", "Okonkwo", "Pardoe",
    "Penhaligon", "Quayle", "Rafferty", "Ramsbottom", "Sadiq", "Sandoval", "Sheridan", "Stubbs",
    "Tamblyn", "Thackeray", "Trevelyan", "Umeh", "Varga", "Wadsworth", "Wetherell", "Whitlock",
    "Zielinski", "Ashdown", "Bellweather", "Cotterill", "Dunmore", "Elphick", "Fenwick",
    "Garside", "Holroyd", "Ormerod", "Pilling", "Standish",
]
HANDLE_WORDS = ["brews", "bakes", "runs", "reads", "cooks", "drinkstea", "coffee", "writes", "knits"]
REDDIT_ADJ = ["Sleepy", "Grumpy", "Caffeinated", "Quiet", "Lazy", "Tiny", "Rusty", "Salty",
              "Cosy", "Midnight", "Steady", "Wobbly"]
REDDIT_NOUN = ["Teapot", "Bagel", "Crumpet", "Barista", "Kettle", "Otter", "Heron", "Toast",
               "Muffin", "Walrus", "Pigeon", "Badger"]
GENERATED_CUSTOMERS = 108

# Recurring and special people. Missing handles are derived from the name.
PERSONAS = {
    "gemma": {"name": "Gemma Arkwright", "x": "gemmabakesathome", "instagram": "gemma.bakes.at.home",
              "followers": {"x": 182400, "instagram": 356900}},
    "devon": {"name": "Devon Achterberg", "x": "devon_unboxes", "followers": {"x": 94500}},
    "harriet": {"name": "Harriet Oyelaran", "x": "harriet_reports", "email": "h.oyelaran@example.org",
                "followers": {"x": 61300}},
    "benji": {"name": "Benji Carrow", "x": "benjicarrow", "followers": {"x": 238000}},
    "rob": {"name": "Rob Kinsella", "x": "robkinsella_", "followers": {"x": 412}},
    "lena": {"name": "Lena Vogt", "x": "lenavogt_", "email": "lena.vogt@example.org", "tz": 1,
             "followers": {"x": 231}},
    "camille": {"name": "Camille Aubert", "x": "camille_aubert", "instagram": "camille.aubert",
                "tz": 1, "followers": {"x": 655, "instagram": 1890}},
    "javier": {"name": "Javier Ruiz Ortega", "x": "javiruizo", "facebook": "javier.ruiz.ortega",
               "tz": 1, "followers": {"x": 318, "facebook": 402}},
    "priya": {"name": "Priya Nandakumar", "x": "priya_nk", "instagram": "priya.nk",
              "followers": {"x": 1204, "instagram": 2730}},
    "tom": {"name": "Tom Hesketh", "x": "tomhesketh", "facebook": "tom.hesketh.9",
            "email": "tom.hesketh@example.com", "followers": {"x": 87, "facebook": 264}},
    "marcus": {"name": "Marcus Dell", "x": "marcusdell", "facebook": "marcus.dell.33",
               "followers": {"x": 540, "facebook": 311}},
    "aisha": {"name": "Aisha Brennan", "x": "aishabrennan", "instagram": "aisha.brews",
              "followers": {"x": 1460, "instagram": 2980}},
    "owen": {"name": "Owen Petrakis", "x": "owenpetrakis", "reddit": "u/ToastPhilosopher",
             "followers": {"x": 903}},
    "jo": {"name": "Jo Pemberton", "x": "jopemberton82", "email": "jo.pemberton82@example.com",
           "followers": {"x": 58}},
}


def _slug(name):
    return "".join(ch for ch in name.lower() if ch.isalnum())


def make_person(rng, first, last, taken):
    f, s = _slug(first), _slug(last)
    n = rng.randint(1, 99)
    x_options = [f + s, f"{f}_{s}", f"{f}{s[0]}{n}", f[0] + s, f"the{f}{s}",
                 f"{f}_{rng.choice(HANDLE_WORDS)}", f"{f}{s}{n}"]
    ig_options = [f"{f}.{s}", f"{f}_{s}", f"{f}.{rng.choice(HANDLE_WORDS)}", f"{f}{s}.{n}"]
    handles = {
        "x": rng.choice(x_options),
        "instagram": rng.choice(ig_options),
        "facebook": rng.choice([f"{f}.{s}", f"{f}.{s}.{n}", f"{f}{s}{n}"]),
        "reddit": f"u/{rng.choice(REDDIT_ADJ)}{rng.choice(REDDIT_NOUN)}{rng.choice(['', str(n)])}",
        "email": rng.choice([f"{f}.{s}@example.com", f"{f}{s[0]}{n}@example.org",
                             f"{f[0]}{s}@example.com"]),
    }
    for channel, handle in handles.items():
        # Collisions are rare; a digit keeps handles unique per channel.
        while (channel, handle) in taken:
            digit = str(rng.randint(2, 9))
            handle = handle.replace("@", digit + "@") if "@" in handle else handle + digit
        taken.add((channel, handle))
        handles[channel] = handle
    # Most followings are small; the long tail stops at 3,000 (big accounts are personas).
    followers = {ch: min(3000, max(10, int(rng.lognormvariate(5.0, 1.2))))
                 for ch in ("x", "instagram", "facebook")}
    tz = rng.choices([0, 1, -5], [80, 15, 5])[0]
    return {"name": f"{first} {last}", "first": first, "handles": handles,
            "followers": followers, "tz": tz}


def build_people(rng):
    taken = set()
    personas = {}
    for key, p in PERSONAS.items():
        first, last = p["name"].split(" ", 1)
        person = make_person(rng, first, last.split()[-1], taken)
        for channel in BRAND_HANDLE:
            if channel in p:
                person["handles"][channel] = p[channel]
                taken.add((channel, p[channel]))
        person["name"] = p["name"]
        person["followers"].update(p.get("followers", {}))
        person["tz"] = p.get("tz", 0)
        personas[key] = person
    crowd, names = [], {p["name"] for p in personas.values()}
    while len(crowd) < GENERATED_CUSTOMERS:
        first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
        if f"{first} {last}" in names:
            continue
        names.add(f"{first} {last}")
        crowd.append(make_person(rng, first, last, taken))
    return personas, crowd


class Crowd:
    """Hands out customers in shuffled rounds, so everyone turns up at least once
    and some turn up again on other days and channels."""

    def __init__(self, people, rng):
        self.people, self.rng, self.queue = people, rng, []

    def next(self, avoid=(), uk_only=False):
        while True:
            if not self.queue:
                self.queue = list(self.people)
                self.rng.shuffle(self.queue)
            person = self.queue.pop()
            if uk_only and person["tz"] < 0:
                continue
            if all(person is not a for a in avoid):
                return person


# --------------------------------------------------------------------------
# The posts, grouped by kind
# --------------------------------------------------------------------------

COMPLAINTS = [
    T("x",
      c("@brightkettle third kettle in two years and the base has stopped connecting AGAIN. Have to wiggle it for ages before it'll boil. Not good enough."),
      b("Hi {first}, that's not the experience we want for you. We've sent you a DM so we can sort out a replacement. ^JM"),
      cdm("Hi, it's the Aurora 1.7L in slate, bought in March last year. Order {order}."),
      bdm("Thanks {first}. That's well within the 2-year warranty, so a replacement goes out today with a prepaid label for the old one. It should be with you in 2 working days."),
      cdm("Brilliant, thank you. Appreciate the quick turnaround.")),
    T("x",
      c("Beans were due two days ago. Tracking still says 'label created' 🙃 @brightkettle"),
      c("24 hours later: still no beans, still no reply. Drinking instant like an animal. @brightkettle", delay=1440)),
    T("x",
      c("@brightkettle you've charged my card twice for this month's Beans subscription. £18.50 x2. Who do I talk to?"),
      b("Sorry about that, {first}! Can you pop us a DM with the email address on your account? We'll get the duplicate refunded."),
      cdm("Sent. Both charges went out on the same day, card ending 4471."),
      bdm("Found it: a payment retry fired when it shouldn't have. Refund of £18.50 issued just now; it can take 3-5 working days to show."),
      cdm("ok thanks. would be nicer if it didn't happen in the first place")),
    T("x",
      c("Brightkettle app keeps saying 'session expired' the second I log in. Reinstalled twice. Can't change my delivery address."),
      other("same here since the update", delay=4, ooo=True),
      b("Hi both, thanks for flagging. The team is looking at a login issue in the latest app version and a fix is rolling out this week. Meanwhile you can manage deliveries at brightkettle.example/account")),
    T("x",
      c("Returned a toaster on the 2nd of November. Refund 'processed' apparently. Not in my account. @brightkettle where is my £64.99?"),
      b("Hi {first}, sorry for the wait. Refunds go back to the original payment method within 10 working days of the item reaching us. DM us your order number and we'll check it's gone through.", delay=840),
      c("It's been 14 working days. DMing you but this is ridiculous."),
      cdm("Order {order}. Tracking shows you got it back on the 4th."),
      bdm("Thanks {first}. The refund got stuck in our payment system. I've pushed it through by hand just now and added a £10 voucher for the hassle. Sorry again.")),
    T("x",
      c("Went into the @brightkettle shop on Harbour Street to ask about a warranty repair and the guy at the counter rolled his eyes and told me to 'look it up online'. Lovely."),
      b("That's not okay and we're sorry, {first}. Could you DM us roughly when you visited? We'll raise it with the store manager."),
      cdm("Saturday, about 2pm. Tall guy with a beard. I wasn't rude to him at all."),
      bdm("Thank you. I've passed this to the Harbour Street manager, who'll follow up with the team. If you bring the machine in, ask for Priti and she'll book the repair for you personally.")),
    T("x",
      c("Ran the descale cycle on my Brightkettle Barista Mini and now the descale light won't go off. Did it twice. Help?"),
      b("Hi {first}! After the cycle, hold the steam and one-cup buttons together for 5 seconds to reset the light. Let us know if that does it ☕"),
      c("That did it, thanks! Why isn't that in the manual though"),
      b("Fair point. We've passed that to the team who write the manuals.")),
    T("x",
      c("My Barista Mini is leaking from underneath every time I make a coffee. Puddle on the worktop every morning. 6 months old. @brightkettle"),
      other("Mine did that, it was the drip tray seal. Fixed under warranty in the end")),
    T("x",
      c("Ordered a toaster for my mum's birthday. Arrived with a cracked crumb tray and a dent in the side. Box was fine, so it left your warehouse like that @brightkettle"),
      b(),
      cdm("Hi, order {order}. I've got photos if you need them."),
      bdm("Thanks {first}, no need. A replacement is on its way by next-day delivery, and you can keep or recycle the damaged one.")),
    T("x",
      c("Two weeks waiting for a 'priority' repair. What exactly is the priority? @brightkettle"),
      c("Rang again. Apparently it's 'in the queue'. So is everything, mate.")),
    T("x",
      c("the @brightkettle kettle is so loud at 6am it wakes the whole flat. 'quiet boil' on the box is a lie"),
      other("ours sets the dog off every morning 😂")),
    T("x",
      c("Subscription says delivered. It was not delivered. Neighbours haven't got it either. @brightkettle"),
      b("Sorry {first}! Let's get that sorted. We've sent you a DM."),
      cdm("Hi, it's {order}. The driver's photo shows a blue door, mine is white."),
      bdm("That's clearly the wrong address. We'll send a fresh bag out today at no charge and raise it with the courier.")),
    T("x", c("App says my beans are 'roasting'. They've been roasting for 9 days. Are you roasting them one bean at a time? @brightkettle")),
    T("x",
      c("Customer service phone line: 47 minutes on hold, then it cut me off. Bravo @brightkettle"),
      other("Took me 3 tries last week. DMs here are quicker, honestly.")),
    T("x", c("Anyone else's Brightkettle toaster only toast one side? Left slot is fine, right slot gives you warm bread. @brightkettle")),
    T("x",
      c("Charged £22 for a bag of beans I paused in October. Pause button clearly doesn't work. @brightkettle"),
      b("Hi {first}, sorry about this. Please DM us and we'll refund it straight away."),
      c("Don't 'sorry about this' me, just fix your crap pause button. 3rd time this year.")),
    T("x",
      c("Descaler tablets from @brightkettle sold out everywhere and the machine refuses to brew until I descale. Hostage situation."),
      other("the hardware shop ones work fine, just do two rinses after")),
    T("x",
      c("The @brightkettle Aurora's display says 100° and the water is barely warm. 11 months old."),
      c("Tried a different socket, same thing. Guess I'm boiling water in a pan like it's 1850.")),
    T("x", c("Brightkettle app notifications at 3am telling me my beans have shipped. Great, thanks, I'll go and wait by the door."), when=(3, 3)),
    T("x",
      c("Third late bean delivery this month @brightkettle. Starting to think the subscription is just a suggestion."),
      other("the courier they use round here is awful too"), who="priya"),
    # Facebook
    T("facebook",
      c("Sent my Barista Pro for repair 3 weeks ago and heard nothing since. Your repair tracker just says 'received'."),
      b("Hi {first}, sorry for the silence. We've sent you a private message so we can check on this for you."),
      cdm("Repair ref R-55812."),
      bdm("Thanks {first}. The part it needed arrived yesterday, so it's being fixed today and should be posted back to you by the end of the week. I'll message you the tracking number once it ships."),
      cdm("Ok, thank you for actually finding out."),
      bdm("Good news, it's shipped! Tracking number BKR-7734122.", delay=1150)),
    T("facebook",
      c("Ordered the Aurora as a gift and it arrived with no plug in the box. How does that even happen?"),
      b("Hi {first}, that's really not good enough, sorry! We've sent you a message to get a complete replacement out today."),
      cdm("Order {order}. Need it by the weekend ideally, it's a birthday present."),
      bdm("Sent by next-day delivery, so you'll have it tomorrow. Keep the first one for parts or we'll collect it, whichever is easier.")),
    T("facebook",
      c("Beans arrived with the bag split open and coffee all over the inside of the box. Second time this has happened."),
      other("Same thing happened to me! The new bags seem thinner")),
    T("facebook",
      c("Anyone else been charged twice this month for Brightkettle Beans? Just checked my bank."),
      other("Yes!! Twice on the 1st"),
      other("Me too, and the refund still isn't back"),
      b("Hi all, we're very sorry. A payment system fault caused some duplicate charges on 1 November. Everyone affected is being refunded automatically. If yours hasn't arrived within 5 working days, please send us a message.")),
    T("facebook",
      c("Our Brightkettle toaster pops up after 30 seconds no matter what setting it's on. Bread is still cold. It's 5 months old."),
      b(),
      cdm("Thanks. Order {order}."),
      bdm("A replacement is booked, and the courier will collect the old one when they drop the new one off.")),
    # Instagram
    T("instagram",
      c("Loved the look of the toaster but it's scratched all over after 2 months 😕 @brightkettle"),
      b("Oh no! That shouldn't happen. Could you send us a DM with a photo?"),
      cdm("this is what the sides look like now, I only ever wipe it with a cloth"),
      bdm("Thanks for the photo. That finish is covered under warranty, so we'll send you a replacement toaster this week 💛"),
      cdm("amazing, thank you!!")),
    T("instagram",
      c("ordered the beans sub as a gift for my sister and she's had nothing after 3 weeks 🙄 @brightkettle"),
      other("same happened with my dad's gift sub, the first bag took a month")),
    T("instagram",
      c("still waiting for my beans @brightkettle, this is week 2 🙃"),
      b("Hi {first}, so sorry! We've sent you a DM."),
      cdm("It's order {order}."),
      bdm("Thanks {first}. Found it: it was stuck at the depot and it's out for delivery today 📦"),
      who="priya"),
    T("instagram",
      c("my kettle's got limescale flakes floating in it even after descaling twice, is that normal? @brightkettle"),
      other("mine does that too, hard water round here. harmless but gross")),
    # Reddit
    T("reddit",
      c("Brightkettle Beans delivery has been late 3 months running. Anyone else? Used to arrive two days after the roast date, now it's more like a week."),
      other("Yep, mine's consistently 4-5 days after the roast date now."),
      other("Mine's been fine, maybe a regional courier thing?"),
      b("Hi all, Brightkettle team member here. We changed courier in some areas in September and it hasn't gone well. Those routes move back to our old courier next month. If a bag turns up more than 3 days late, send us a message and we'll credit it.", parent=0),
      sub="brightkettle"),
    # Email
    T("email",
      c("Hello, I returned my Aurora kettle on 28 October and got an email saying the refund was processed on 3 November. It still hasn't reached my bank account. Could you please check? Order {order}."),
      c("Hello again, I emailed two days ago about my refund for order {order} and haven't had a reply. Could someone please look into this?", delay=2880),
      b("Hi {first}, apologies for the slow reply. Your refund of £79.99 was sent on 3 November but bounced back because the card had expired. Would you like it sent to a new card or as a bank transfer? Best wishes, Jonah, Brightkettle Care", delay=300),
      c("Ah, that would explain it. A bank transfer is fine. I'll ring rather than email my bank details.")),
    T("email",
      c("Hi, I've descaled my Barista Pro three times now following the manual and it still says 'descale needed'. The coffee also tastes slightly sour. Is there something I'm missing? Thanks, {first}"),
      b("Hi {first}, sorry for the trouble. On the Barista Pro the reminder only clears if the whole cycle runs without pausing, so if the tank ran low partway through it won't reset. Please try once more with a full tank, and if it still shows we'll book a free repair. Kind regards, Maya, Brightkettle Care"),
      c("Tried again with a full tank and it's cleared. Thanks Maya!")),
    T("email",
      c("Hello, my Barista Mini has started leaking water from the bottom. I've attached a photo of the puddle. It's about 10 months old. What should I do?"),
      b("Hi {first}, thanks for the photo. That looks like the drip tray seal, which your warranty covers. I've emailed you a prepaid returns label and we'll have it repaired and back to you within 7 working days. Best, Jonah, Brightkettle Care")),
    T("email",
      c("I can't log in to the app. It says my password is wrong, so I reset it, and then it says the reset link has expired. I've tried four times. My account email is this one."),
      b("Hi {first}, sorry about this. Reset links were expiring far too quickly, and that's now fixed. Please try the reset once more and it should work. Best wishes, Sam, Brightkettle Care"),
      c("Worked this time, thanks.")),
    T("email",
      c("I visited your Millgate store yesterday to return a faulty toaster and was told I couldn't without the original box. The staff member was dismissive and talked over me the whole time. Your returns policy says nothing about needing the box. I'd like an explanation."),
      b("Hi {first}, I'm sorry about your visit, and you're right: you don't need the original box to return a faulty item. I've shared your feedback with the Millgate store manager. I've also refunded £39.99 to your original payment method. Kind regards, Maya, Brightkettle Care"),
      c("Thank you, that's appreciated.")),
    T("email",
      c("Hello, my order {order} hasn't arrived. Please call me on {phone_local}, I'm home all day. {first}"),
      b("Hi {first}, I tried calling but couldn't get through, so I'm replying here. Your parcel was held at the depot because of an address mix-up. It's back on the van and will arrive tomorrow. Best, Sam, Brightkettle Care")),
    T("email",
      c("You have taken two payments from my account this month for the same subscription. Please refund one of them."),
      c("I have still had no reply to my email about the double payment. I would like a response, please.", delay=1900)),
]

QUESTIONS = [
    T("x",
      c("How often should I be descaling the Barista Mini? Hard water area. @brightkettle"),
      other("Every month or so where I live. The light comes on when it wants doing anyway.")),
    T("x",
      c("Quick one @brightkettle: how long is the warranty on the toasters? Mine's 14 months old and the lever won't stay down."),
      b("Hi {first}, all our appliances come with a 2-year warranty, so you're covered. DM us your order details and we'll arrange a repair or replacement."),
      c("Legend, DMing now"),
      cdm("Order is {order}, bought from your website."),
      bdm("Thanks {first}! A replacement toaster is on its way and should be with you in 2-3 working days.")),
    T("x",
      c("Does the Brightkettle Aurora work with voice assistants or is it app only? @brightkettle"),
      other("Mine works with the voice assistant through the app, there's a Connect menu somewhere in settings")),
    T("x",
      c("What time does the Harbour Street store open on Sundays? @brightkettle"),
      other("10 till 4 I think, I was there last weekend")),
    T("x",
      c("Can I pause my Beans subscription for December? Away for the whole month. @brightkettle"),
      b("Absolutely! In the app go to Subscription > Manage > Pause and pick up to 3 months. Or DM us and we'll do it for you."),
      c("Done, easy. Thanks!")),
    T("x",
      c("Is the Barista Mini's milk jug dishwasher safe? Asking before I ruin it"),
      other("mine's been in the dishwasher for a year, it's fine")),
    T("x",
      c("Do you still do the green Aurora? Can't find it on the site @brightkettle"),
      other("It's been out of stock for weeks, I gave up and got the slate one")),
    T("x",
      c("@brightkettle is the crumb tray on the 2-slice toaster replaceable? Ours is bent."),
      other("They sell spares on the website, cost me about £6")),
    T("x",
      c("Is there a student discount on Brightkettle Beans? Asking for a broke me."),
      other("there's 10% off the machines with a student card, not sure about beans")),
    T("x",
      c("Can I use ordinary citric acid to descale the Aurora or does it have to be your tablets? @brightkettle"),
      other("I use the cheap citric acid from the baking aisle on mine, works fine")),
    T("x",
      c("The steam wand on my Brightkettle machine spits water for about 10 seconds before any steam comes out. Normal or broken?"),
      other("Normal, mine does that too. Purge it into the drip tray first")),
    T("x",
      c("@brightkettle do you deliver beans to Ireland?"),
      other("They do, I'm in Galway and it takes about 4 days")),
    T("x", c("What's actually the difference between the Aurora and the Aurora Plus? The website doesn't really say @brightkettle")),
    T("x",
      c("How do I change the card on my Beans subscription? Can't find it anywhere in the app @brightkettle"),
      b("Hi {first}! It's under Account > Payment > Edit card. If the button is greyed out, update the app and try again.")),
    T("x",
      c("Does anyone know if Brightkettle do trade-ins? My old machine still works but I fancy the Pro"),
      other("they ran a trade-in offer around this time last year, might come back")),
    T("x",
      c("@brightkettle can the Barista Mini take pre-ground coffee or is it whole beans only?"),
      other("pre-ground works, there's a little bypass scoop in the box")),
    # Facebook
    T("facebook",
      c("Hi Brightkettle, does the Beans subscription let me choose decaf? My partner is pregnant and off caffeine for now, but she doesn't want to give up her morning cup."),
      b("Hi {first}, congratulations to you both! Yes, our Night Owl Decaf can go into any subscription. In the app go to Subscription > Beans and choose it from the list."),
      c("Perfect, thanks so much!")),
    T("facebook",
      c("Does anyone know if the Brightkettle coffee machine takes pods or is it beans only?"),
      other("Beans or ground, no pods. Honestly better that way")),
    T("facebook",
      c("Is there a Brightkettle store near Northbridge or do I have to go into the city?"),
      other("Millgate is the closest, about 20 minutes on the bus")),
    T("facebook",
      c("How long is the warranty on the coffee machines? Thinking of getting one for Christmas."),
      other("2 years I think, that's what mine came with")),
    T("facebook",
      c("Can the Brightkettle bean bags be recycled? The label just says 'check locally', which isn't much help."),
      b("Hi {first}, the outer paper goes in your normal recycling and the foil lining can go in the soft plastics collection at most supermarkets. We're working on a fully recyclable bag for next year.")),
    T("facebook",
      c("Is the Harbour Street store open late on Thursdays for Christmas shopping?"),
      b("Hi {first}, yes! All our stores are open until 8pm on Thursdays from now until Christmas 🎄")),
    # Instagram
    T("instagram",
      c("what grind do you recommend for the Pennick Yard blend in a cafetière? @brightkettle"),
      other("coarse like sea salt, 4 mins steep ☕")),
    T("instagram",
      c("Can you use the Aurora for tea at different temperatures? I drink a lot of green tea @brightkettle"),
      other("yes! I do 80° for green, it has presets 🍵")),
    T("instagram",
      c("does the toaster do bagels? 🥯 @brightkettle"),
      other("yes there's a bagel button! only toasts the cut side")),
    # Reddit
    T("reddit",
      c("Barista Mini vs Barista Pro: is the Pro worth the extra £120? I mostly drink flat whites, 2 a day."),
      other("Pro has the better steam wand, which matters for flat whites. Mini is fine for straight espresso."),
      other("Got the Pro. Heats up way faster too. No regrets."),
      sub="homebarista"),
    T("reddit",
      c("How long do Brightkettle Beans actually stay fresh once the bag's open? I only get through one every three weeks."),
      other("Airtight tub, out of the light, and they're fine for 3-4 weeks. Past that they go a bit flat but still drinkable."),
      sub="homebarista"),
    T("reddit",
      c("Does the Brightkettle toaster work on 110V? Moving abroad next year and wondering whether to take it."),
      other("Pretty sure the UK ones are 230V only. Cheaper to sell it and buy one over there than mess about with a converter."),
      sub="brightkettle"),
    # Email
    T("email",
      c("Hello, I bought a Barista Pro from your website last week and would like to know whether the warranty starts from the purchase date or the delivery date. The machine arrived 6 days after I ordered it. Thanks, {first}"),
      b("Hi {first}, thanks for getting in touch. Your warranty runs for 2 years from the delivery date, so you're covered until November 2028. Registering the machine in the app isn't required, but it makes any claim quicker. Best wishes, Sam, Brightkettle Care")),
    T("email",
      c("Hi, can I change which day of the week my beans arrive? Fridays are no good since I'm never home. Order reference {order}."),
      b("Hi {first}, of course. I've moved your deliveries to Tuesdays starting next week. You can also change this yourself in the app under Subscription > Delivery day. Kind regards, Maya, Brightkettle Care"),
      c("That's great, thank you Maya!")),
    T("email",
      c("Hi, does the Barista Pro steam wand work with oat milk or do I need a special setting? I've had mixed results so far."),
      b("Hi {first}, no special setting needed, but barista-style oat milks foam much better than regular ones. Start with the milk fridge-cold and keep the wand tip just under the surface. Best, Jonah, Brightkettle Care")),
    T("email",
      c("Hello, I'm buying a Barista Mini as a Christmas present. If it arrives damaged or they don't like it, can they return it without me? Thanks"),
      b("Hi {first}, yes. Add a gift receipt at checkout and the recipient can return or exchange it until 31 January. Best, Jonah, Brightkettle Care")),
    T("email",
      c("Hello, do you sell replacement limescale filters for the Aurora kettle? Mine has gone a bit brown. Thanks, {first}"),
      b("Hi {first}, we do: a pack of two is £4 in the Parts section of our website. They pop out from the inside of the spout, and a soak in citric acid will usually bring the old one back too. Best, Sam, Brightkettle Care")),
]

PRAISE = [
    T("x",
      c("Shoutout to the @brightkettle team who replaced my kettle in 2 days, no questions asked. That's how you keep customers 👏"),
      b("Thanks so much, {first}! We'll pass this on to the team 💛"),
      who="aisha"),
    T("x", c("Pennick Yard blend from @brightkettle this morning. Chocolatey, smooth, perfect. Best thing to come through my letterbox all month."), when=(7, 11)),
    T("x",
      c("Honestly the Barista Mini has paid for itself. No more £4 coffees on the way to work."),
      c("Did the maths: 11 weeks to break even. Everything after that is profit (caffeine).")),
    T("x",
      c("Three years and my Brightkettle is still going strong. Rare to find something that lasts these days."),
      other("Same, mine's older than my car")),
    T("x",
      c("Tested 6 kettles for my kitchen kit roundup and the @brightkettle Aurora is the one I kept. Fast, quiet, and the temperature settings are actually accurate. Full review on the blog tomorrow 🫖", lang="en"),
      other("ooh I've been eyeing that one, can't wait for the review"),
      b("Gemma, this made our day! Thanks for putting it through its paces 🫖", parent=0),
      who="gemma"),
    T("x", c("had the nicest chat with someone from @brightkettle on the phone today, sorted my broken lid in 5 mins. more of this please")),
    T("x",
      c("Six months with the Brightkettle Barista Pro. Still the best milk texture I've had from a home machine at this price. Long-term review video goes up Friday.", lang="en"),
      other("Looking forward to it, your first-look video is why I bought one"),
      who="devon", when="2026-11-17T19:05"),
    T("x", c("My Brightkettle toaster has survived a toddler, two house moves and a bagel incident. Respect.")),
    T("x", c("Whoever writes the little notes on the @brightkettle bean bags, keep going. 'Roasted with love and mild panic' made me laugh out loud")),
    T("x", c("Okay, the Winter Roast is seriously good. Converted my dad, who has drunk instant for 40 years. @brightkettle")),
    T("x", c("Der Wasserkocher von Brightkettle ist wirklich leise. Bin positiv überrascht.", lang="de"), who="lena"),
    # Facebook
    T("facebook",
      c("Just wanted to say a big thank you to Priti at the Harbour Street store. She spent 20 minutes showing my dad how to use his new machine and was so patient with him. Brilliant service."),
      b("Thank you for taking the time to share this, {first}! We've passed it on to Priti and her manager.")),
    T("facebook",
      c("Beans subscription has been excellent. Not once late in 18 months, and the Winter Roast last year was gorgeous."),
      other("Agree, never had a problem with ours either")),
    T("facebook",
      c("Our Brightkettle kettle finally gave up after 9 years of at least six boils a day. Bought the same one again. Good innings!"),
      other("9 years! Ours is on year 5 and still going strong")),
    # Instagram
    T("instagram",
      c("Sunday morning setup ☕✨ Aurora kettle + pour-over + the Winter Roast from @brightkettle. Honestly the prettiest kettle I own #slowmornings #coffeetime", lang="en"),
      other("Where is that mug from?? 😍"),
      other("obsessed with this colour", parent=0),
      who="gemma", when="2026-11-22T09:40"),
    T("instagram",
      c("My new favourite corner of the flat 🥰 @brightkettle"),
      other("love this 😍")),
    T("instagram", c("Winter Roast tastes like Christmas in a cup 🎄 @brightkettle")),
    T("instagram", c("coffee date with myself ☕ @brightkettle #baristaathome"), who="aisha"),
    T("instagram", c("the packaging on my @brightkettle beans is so cute I'm keeping the bags 😂")),
    T("instagram", c("morning ritual 🌅☕ nothing beats the first cup from the Barista Mini #coffeelover @brightkettle"), when=(6, 10)),
    # Reddit
    T("reddit",
      c("Unpopular opinion maybe, but the Brightkettle Barista Pro is the best machine I've owned under £400. Two years in, zero problems. Descale every month and it's been flawless."),
      other("Agreed, mine's going on 3 years."),
      sub="homebarista"),
    T("reddit", c("PSA for new Barista Mini owners: milk texture gets SO much better if you purge the wand first and use fridge-cold milk. Took me months to work that out. Great little machine."),
      sub="homebarista"),
    # Email
    T("email",
      c("Hi, I just wanted to say thanks to whoever packed my last order. There was a handwritten note and a sample of the new decaf in the box. Small thing, but it made my week. Best, {first}"),
      b("Hi {first}, thank you so much for writing in! I'll make sure the packing team at Pennick Yard sees this. Enjoy the decaf! Best, Jonah, Brightkettle Care")),
    T("email",
      c("Hello, just a quick note to say the repair team did a brilliant job on my Barista Pro. It came back within a week, cleaned and working like new. Thank you, {first}"),
      b("Hi {first}, that's lovely to hear, thank you! I'll pass it on to the repair team. Best, Sam, Brightkettle Care")),
]

SUGGESTIONS = [
    T("x",
      c("@brightkettle please add a 'keep warm' mode to the Aurora. I always forget my tea and reboil it 4 times."),
      b("Love this idea, {first}. We've added it to our product feedback list ✍️")),
    T("x", c("Would be great if the Brightkettle app showed the actual roast date of the beans before they ship")),
    T("x", c("A dark mode for the Brightkettle app would be nice. It's 6am, my eyes are not ready"), when=(6, 6)),
    T("x",
      c("@brightkettle bring back the 500g bags please, a 250g bag lasts me 4 days"),
      other("seconded, the packaging alone on 250g bags is silly")),
    T("facebook",
      c("Suggestion: a refill scheme for the bean bags. I have 30 empty ones in a drawer and feel bad binning them."),
      other("Yes! I'd happily send mine back"),
      b("Great suggestion {first}, and good timing: we're trialling a bag return scheme in the new year. We'll share details soon.", parent=0)),
    T("instagram",
      c("please make a matching toaster in the sage green 🙏 @brightkettle"),
      other("yes please!! 💚")),
    T("reddit",
      c("Feature request for the Brightkettle app: let us pick a different bean for each delivery instead of the same one every month. Would make me try more blends."),
      other("This. I'd also like a 'surprise me' option."),
      sub="brightkettle"),
    T("email",
      c("Hello, a small suggestion: could the subscription emails include the tasting notes for each bean? I like to know what I'm drinking but I always lose the little card. Thanks, {first}"),
      b("Hi {first}, great idea. I've shared it with our marketing team, who are redesigning the delivery emails right now. Kind regards, Maya, Brightkettle Care")),
]

# (channel, handle, display name, followers, text): bots, not customers.
SPAM = [
    ("x", "btcsignals_king", "Crypto King 👑", 2140,
     "🚀 Turn $200 into $5,000 in 48 hours with BTC signals! DM me now 💰 @brightkettle #crypto #passiveincome"),
    ("x", "buyfollowers_fast", "Grow Fast", 96,
     "Buy 10K real followers for $9.99 👉 grow-fast-followers.example ✅ instant delivery ✅ no password needed"),
    ("x", "prizedrop_winners", "Prize Drop 🎁", 31,
     "@brightkettle Congratulations! You've been selected for our giveaway 🎁 claim here: bit-prize.example/kx92"),
    ("x", "lucy_trades_eth", "Lucy | Trader", 1480,
     "I made 3.2 ETH last week thanks to @ethmentor_dan_ follow him he's legit 🙏🙏 @brightkettle"),
    ("x", "followerz4u", "Followerz", 12,
     "Need cheap followers? We got you 👇 followerz4u.example #growth #smm"),
    ("x", "ai_trade_profits", "AI Profits", 404,
     "Earn daily 💵 with our AI trading bot, 100% win rate. Link in bio 🔗 @brightkettle"),
    ("x", "collab_dm_pls", "Collabs", 15, "@brightkettle DM for collab 🤝"),
    ("x", "kettle_deals_247", "Kettle Deals 24/7", 38,
     "🔥 Brightkettle Aurora 90% OFF today only!! 👉 bk-outlet-sale.example hurry, limited stock 🔥"),
    ("instagram", "collab.queen.official", "Collab Queen 💕", 870,
     "Hey love your page!! 😍 DM for collab 💕"),
    ("instagram", "viral.boost.pages", "Viral Boost", 2990,
     "Promote it on @viral.boost.pages 🔥🔥"),
    ("instagram", "brand.ambassador.hq", "Ambassador HQ", 1200,
     "DM us for collab! We think your brand would be perfect for our ambassador program 💫"),
    ("instagram", "verify.helpdesk.official", "Verify Helpdesk", 44,
     "Get your blue tick today 💙 100% guaranteed, DM @verify.helpdesk.official"),
    ("instagram", "free.crypto.tips.daily", "Crypto Tips", 660,
     "nice 🔥 check my page for free crypto tips 📈"),
    ("instagram", "glowup.promo.agency", "GlowUp Promo", 1750,
     "Your content is 🔥! We can get you 50K followers in a week. DM now 📩"),
    ("instagram", "brightkettle.giveaways", "Brightkettle Giveaways", 23,
     "Congrats! You won our November draw 🎉 Claim your prize at bk-prizes.example within 24h or it goes to the next winner"),
    ("facebook", "sandra.earns.daily", "Sandra Works From Home", 150,
     "Earn £3,000 weekly from home, no experience needed. Message me for details 💸💸"),
    ("facebook", "page.safety.review.team", "Page Safety Review", 9,
     "Your page has been flagged for copyright violation. Verify your account within 24h or it will be disabled: page-safety-review.example"),
    ("facebook", "easy.money.club.uk", "Easy Money Club", 2210,
     "Who wants to make $500/day? Comment YES 👇"),
    ("facebook", "mark.invests.daily", "Mark Invests Daily", 640,
     "I've been earning with forex trading for 3 months now, message me and I'll show you how 📈💷"),
    ("reddit", "u/best_deals_hub_2026", None, None,
     "Check out my new coffee blog! Best coffee machines of 2026, all the top picks and discount codes: cheap-deals-hub.example/best-coffee"),
    ("email", "growth.partners@example.org", "Growth Partners", None,
     "Dear Sir/Madam, we offer premium SEO services to rank your website on the first page. 100% guaranteed results. Reply today for a free audit. Regards, Kevin"),
]

ABUSE = [
    T("x", c("@brightkettle your customer service is absolute shit. Useless, the lot of you.")),
    T("x", c("Whoever designed this app should be fired into the sun. Fucking garbage. @brightkettle")),
    T("x", c("@brightkettle go to hell, you thieving bastards. Give me my money back.")),
    T("x", c("Your staff in the Millgate store are clueless. Asked one question and got three wrong answers. Damn joke of a company @brightkettle")),
    T("facebook", c("The woman on your phone line was condescending from start to finish and the whole company is a joke. Piss off with your 'we value your feedback'.")),
    T("facebook", c("Stop deleting comments you cowards. Bloody pathetic.")),
    T("instagram", c("lol this crap company. trash kettles, trash staff 🗑️🗑️")),
    T("instagram", c("you lot are a bunch of clowns 🤡 answer your bloody DMs @brightkettle")),
    T("x", c("@brightkettle what a load of bollocks. 'Priority support' my arse.")),
    T("x", c("@brightkettle useless pillocks, the lot of you. Third email unanswered.")),
    T("facebook", c("Absolute cowboys. Whoever runs this page is a useless prat.")),
    T("reddit", c("Brightkettle can shove their 'premium' descaler where the sun doesn't shine. £12 for a pouch of citric acid, absolute muppets."),
      sub="CasualKitchen"),
]

RANTS = [
    T("reddit",
      c("My Brightkettle toaster has two settings: 'still bread' and 'charcoal briquette'. There is no in-between. I have tried setting 3. Setting 3 is a lie. Setting 3 is a myth they tell children. I have now eaten 47 slices of toast in the name of science and can report that the toaster is governed by chaos alone. 10/10, would be bamboozled again."),
      other("setting 3.5 only exists during a full moon"),
      other("Mine has a secret third setting: 'smoke alarm'.", parent=0),
      b("This made our morning. For what it's worth, the browning dial behaves much better after a 2-minute empty preheat. But 'governed by chaos alone' is going on the office wall. Sam", parent=0),
      who="owen", sub="brightkettle"),
    T("x", c("Brightkettle app: 'Your kettle is ready!' Me, standing next to the kettle: it is not ready. App: 'Enjoy your tea ☕' 🤡")),
    T("x", c("[meme: a toaster wearing sunglasses] the @brightkettle toaster when you ask for light golden toast: 'best I can do is volcanic' 🌋🍞"), who="owen"),
    T("facebook",
      c("Love how the Brightkettle smart kettle needs a firmware update before it'll boil water. Truly we live in the future. Can't wait for the subscription that unlocks 'hot'."),
      other("don't give them ideas 😂")),
    T("reddit",
      c("My Brightkettle smart kettle just asked me to rate my boil experience from 1 to 5 stars. Sir, it is water. It got hot. 5 stars I suppose?"),
      other("wait till it asks for a tip"),
      sub="CasualKitchen"),
]

WRONG_FACTS = [
    T("x",
      c("PSA: Brightkettle kettles contain lead and were banned in the EU last year. That's why they're so cheap now. Throw yours out."),
      other("source?"),
      b("Hi, this isn't correct. Brightkettle kettles contain no lead and are sold across the EU; every model meets EU food-contact and electrical safety rules. Test certificates are at brightkettle.example/safety", parent=0)),
    T("facebook",
      c("Heard from a friend who works there that Brightkettle is closing all their stores next month. Get your repairs in now!!"),
      other("Seriously? I've got a machine in for repair at the Millgate one"),
      b("Hi {first}, we can reassure you this isn't true. None of our stores are closing and repairs carry on as normal. Store details are at brightkettle.example/stores", parent=0)),
    T("reddit",
      c("Pretty sure Brightkettle Beans is just supermarket coffee in a nicer bag. They don't roast anything, it's all bought in from the same wholesaler as everyone else."),
      other("My cousin did a roastery tour there last year, they definitely roast on site. Whether it's any good is another question."),
      b("Hey, Brightkettle team here. We roast every Beans order ourselves at our roastery in Pennick Yard, in small batches, and the roast date is printed on every bag. Happy to answer anything else.", parent=0),
      sub="homebarista"),
    T("instagram", c("Didn't Brightkettle get bought by a big oil company? That's what my feed keeps saying 🤔")),
]

SAFETY = [
    T("x",
      c("@brightkettle the handle on our Aurora kettle snapped clean off while my wife was pouring. Boiling water went over our 6 year old's arm. We've spent the evening in A&E. The kettle is 8 months old."),
      b("Rob, we're so sorry and we hope your daughter is okay. Please stop using the kettle and keep it as it is. We've sent you a DM; our product safety team wants to speak to you tonight.", delay=12),
      cdm("She has a burn on her forearm; they've dressed it and we go back on Thursday. The kettle is in the garage. You can reach me on {phone_local}. I want to know how this happened.", delay=9),
      bdm("Thank you, Rob. I've opened a safety case (ref PS-2211) and our product safety lead, Dana, will call you within the hour. We'll collect the kettle for investigation and cover any costs you've had. Again, we're so sorry.", delay=21),
      c("Update for those asking: she's doing okay, the dressing was changed today and it's healing. Brightkettle's safety team called last night and collected the kettle this morning. Waiting to hear what they find. Check your handles, everyone.", parent=0, delay=1150),
      who="rob", when="2026-11-18T21:40"),
]

CHURN = [
    T("x",
      c("Cancelling my Brightkettle Beans subscription. Three late deliveries in a row and the last bag was stale. Switching to a local roaster."),
      b("Sorry to see you go, {first}. If you're open to it, we'd love to hear what happened with that last bag. We've sent you a DM."),
      cdm("Honestly the beans were great until September. Since then they've turned up a week after the roast date and taste flat. I've already cancelled."),
      bdm("That's really useful, thank you. I've refunded your last delivery, and your account stays open if you ever want to come back.")),
    T("x", c("Right, that's it. Switching to another brand. Your machines are nice but I'm not paying for a subscription that charges me twice. @brightkettle"), who="marcus"),
    T("facebook",
      c("After 4 years I'm done. Kettle number 2 has died, the app logs me out daily and nobody answers emails. Switching to Kettlecraft. Shame, I used to love this company."),
      other("Kettlecraft ones rust inside btw, check the reviews first"),
      c("Anything is better than what I've got now tbh"),
      who="marcus"),
    T("instagram",
      c("Cancelled my beans sub today. Nice coffee, but £18 a bag when the supermarket sells something similar for half is hard to justify right now."),
      other("same, it's gone up twice this year")),
    T("reddit", c("Thinking of cancelling Brightkettle Beans. What's a good alternative for someone who likes medium roasts and doesn't want to spend a fortune?"),
      sub="homebarista"),
    T("email",
      c("Please cancel my Brightkettle Beans subscription with immediate effect. I'm moving to another supplier. I do not want any further deliveries or charges."),
      b("Hi {first}, your subscription has been cancelled and you won't be charged again. Sorry to see you go. If you have a moment, we'd love to know what we could have done better. Best, Jonah, Brightkettle Care")),
]

LEGAL = [
    # Tom's e-mail chase and his public post are one story; the times are pinned
    # so that the brand's "we've found your email" reply makes sense.
    T("email",
      c("Dear Brightkettle, I have been charged twice for my November Beans subscription (£18.50 on the 1st and again on the 2nd). I raised this on your website chat on the 5th and was promised a refund within 3 days, but nothing has arrived. If the money is not back in my account within 7 days I will take this to the small claims court. My order number is {order}. Tom Hesketh"),
      c("This is my second email. Still no refund and no reply, and three of the 7 days have gone.", delay=4540),
      b("Dear Tom, I'm sorry you've had to chase this. I've checked your account and the duplicate payment of £18.50 was not refunded as promised. I've now issued it, and you should see it within 3-5 working days, along with a credit on your next delivery. Kind regards, Maya, Brightkettle Care", delay=190),
      c("Thank you. I'll confirm when it arrives.", delay=35),
      c("Refund has arrived. Thank you for sorting it, though it shouldn't have taken two months.", delay=2900),
      who="tom", when="2026-11-16T08:10"),
    T("x",
      c("@brightkettle charged twice AGAIN. Emailed you twice. Nothing. Next stop is small claims."),
      b("Hi Tom, we've found your emails and a member of the team will reply today. Sorry for the wait.", delay=35),
      who="tom", when="2026-11-19T12:30"),
    T("facebook",
      c("Three repairs, three months without a machine. I've spoken to my lawyer and you'll be hearing from her. Don't bother replying with 'sorry to hear that'."),
      b("Hi {first}, we understand your frustration. We'd like to resolve this directly: could you send us a private message with your repair reference? Our customer relations team will call you today."),
      c("Sent. Not holding my breath.")),
]

PRESS = [
    T("x",
      c("I'm looking into reports of Brightkettle Beans subscribers being charged twice this month. If it's happened to you, my DMs are open. @brightkettle, I've emailed your press office for comment.", lang="en"),
      other("Happened to me in October and again this month"),
      other("@harriet_reports yes, twice in November. Refund took 12 days", parent=0),
      b("Hi Harriet, thanks for getting in touch. Our press team has your email and will respond today. Anyone affected by a duplicate charge can DM us and we'll refund it straight away.", parent=0, delay=50),
      who="harriet", when="2026-11-17T10:15"),
    T("email",
      c("Hello, I'm a consumer affairs reporter at The Morning Ledger. I'm writing a piece about duplicate charges on coffee subscriptions, and several readers have mentioned Brightkettle Beans. Could someone from your press team comment on how many customers were affected and what you're doing about it? My deadline is 5pm on Friday.", lang="en"),
      b("Hi Harriet, thank you for your email. I've forwarded it to our press office, who will be in touch today. Best, Sam, Brightkettle Care", delay=45),
      who="harriet", when="2026-11-17T10:08"),
]

# Customers posting their own details in public, which the desk should catch.
PERSONAL_DATA = [
    T("x",
      c("@brightkettle I've emailed 4 times!! My email is {email} and my order is {order}, just ring me on {phone} PLEASE"),
      b("Hi {first}, we've got your details and a member of the team will call you shortly. For your privacy we'd suggest deleting this post, as it includes your phone number."),
      c("Thank you, deleting it now"),
      who="jo"),
    T("facebook",
      c("Can someone from Brightkettle call me on {phone_local}? My machine has been at your repair centre for 5 weeks. Order {order}."),
      b("Hi {first}, we'll give you a call as soon as we can. We'd recommend removing your number from this public comment; you can always send us a private message instead.")),
    T("instagram",
      c("@brightkettle still waiting on my refund for order {order}, email me at {email}"),
      b("Hi {first}, we've sent you a DM. Please don't share your email address publicly 💛"),
      cdm("ok sorry! it's the same order, {order}"),
      bdm("Thanks {first}, the refund went out today. It'll show in 3-5 working days 💛")),
]

NON_ENGLISH = [
    T("x",
      c("@brightkettle Meine Bohnenlieferung ist seit einer Woche überfällig. Bestellnummer {order}. Könnt ihr bitte nachsehen?", lang="de"),
      b("Hallo {first}, das tut uns leid! Wir haben dir eine DM geschickt und schauen uns die Lieferung an.", lang="de"),
      cdm("Danke. Die Sendungsverfolgung zeigt seit fünf Tagen nichts Neues.", lang="de"),
      bdm("Das Paket ist leider beim Versand verloren gegangen. Wir schicken dir heute kostenlos ein neues.", lang="de"),
      who="lena"),
    T("email",
      c("Hallo, ich möchte mein Bohnen-Abo für Dezember pausieren. Geht das auch per E-Mail? Viele Grüße, Lena", lang="de"),
      b("Hallo Lena, natürlich! Wir haben dein Abo für Dezember pausiert, die nächste Lieferung kommt im Januar. Viele Grüße, Maya von Brightkettle Care", lang="de"),
      who="lena"),
    T("instagram",
      c("J'adore ma nouvelle bouilloire Brightkettle ! Elle est magnifique dans ma cuisine 😍", lang="fr"),
      other("Elle est trop belle ! Quelle couleur ? 😍", lang="fr"),
      who="camille"),
    T("x",
      c("Est-ce que l'abonnement Brightkettle Beans est disponible en France ? @brightkettle", lang="fr"),
      b("Bonjour {first} ! Pas encore, mais nous espérons livrer en France l'année prochaine. Restez connectée !", lang="fr"),
      who="camille"),
    T("facebook",
      c("Hola, mi cafetera Brightkettle pierde agua por abajo desde hace una semana. ¿Qué puedo hacer? Está en garantía.", lang="es"),
      b("Hola {first}, lo sentimos mucho. Te hemos enviado un mensaje privado para organizar la reparación.", lang="es"),
      cdm("Gracias. El número de pedido es {order}.", lang="es"),
      bdm("Perfecto. Hoy mismo te enviamos por correo electrónico una etiqueta de devolución prepagada.", lang="es"),
      who="javier"),
    T("x", c("¿Alguien sabe si la tostadora de Brightkettle va bien con pan sin gluten? 🍞", lang="es"), who="javier"),
]

# Mentions that need no reply; the desk should learn to leave these alone.
NEUTRAL = [
    T("x", c("Kettle on, Brightkettle doing its thing, first coffee of the day. We go again."), when=(6, 9)),
    T("x", c("Saw the Brightkettle van at the roastery on my run this morning, the whole street smelled of coffee"), when=(7, 11)),
    T("x", c("Overheard in the office: 'who took the Brightkettle beans from the cupboard'. A mystery for the ages.")),
    T("instagram", c("New kitchen, who dis 🏡 #brightkettle #kitchenreno")),
    T("reddit",
      c("Found my grandma's 1990s Brightkettle kettle in the loft. Still works. They don't make 'em like they used to (apart from the ones they make now, which are fine)."),
      other("The 90s ones had the chrome handle, right? My parents had one for about fifteen years."),
      sub="CasualKitchen"),
    T("facebook", c("Brightkettle pop-up at the Christmas market in Millgate this weekend if anyone wants to try the Winter Roast"),
      when="2026-11-20T12:15"),
    T("facebook", c("My mum has just discovered the Brightkettle app can start the kettle remotely and now she texts me every time she does it 😂")),
]

# The brand's own posts, with the comments they drew.
ANNOUNCEMENTS = [
    T("instagram",
      b("Meet the Aurora in chalk white 🤍 Temperature control from 40° to 100° and our quietest boil yet. Link in bio."),
      c("Is it the same size as the old one? Mine barely fits under the cupboard 🙈"),
      b("Same footprint and 1cm shorter 😊"),
      other("Mine has been leaking from the base since week two, maybe fix that before launching new colours", parent=0),
      b(),
      when=(10, 13)),
    T("instagram",
      b("Winter Roast is back 🎄 Dark chocolate, orange peel and a little spice. Swap it into your next delivery from the app."),
      c("need 😍"),
      other("does it come in decaf?", parent=0),
      b("Not this year, but our Night Owl Decaf has similar chocolatey notes 🌙"),
      when="2026-11-16T09:05"),
    T("facebook",
      b("Winter Roast is back 🎄 Notes of dark chocolate, orange peel and a little spice. Available to all Brightkettle Beans subscribers from today: just swap it in from the app."),
      c("Swapped already!"),
      other("Can I get it without a subscription?", parent=0),
      b("You can! One-off bags are in the shop on our website 😊"),
      when="2026-11-16T09:00"),
]

# The app outage: every one of these lands inside one hour on Thursday morning.
OUTAGE_START = "2026-11-19T07:38"
OUTAGE = [
    ("x", "is the @brightkettle app down? just spinning"),
    ("x", "Brightkettle app won't load at all. Wanted to skip this week's delivery before the cutoff 😤"),
    ("x", "App down? Anyone? @brightkettle"),
    ("x", "The one morning I need to change my delivery address and the @brightkettle app is a white screen. Classic."),
    ("x", "@brightkettle app stuck on the logo screen. Tried wifi and mobile data."),
    ("x", "'Something went wrong. Please try again later.' Cheers @brightkettle, very specific"),
    ("x", "brightkettle app down for anyone else or just me"),
    ("x", "So the app's down AND the website login is timing out. What's going on @brightkettle?"),
    ("x", "Rebooted my phone 3 times before realising the @brightkettle app is down for everyone 🙃"),
    ("x", "Twenty minutes of 'loading…' and counting. @brightkettle"),
    ("instagram", "@brightkettle your app isn't working 😭"),
    ("instagram", "app won't open since about quarter to 8?? is it just me @brightkettle"),
    ("facebook", "Is the Brightkettle app down? Been trying for 20 minutes. Need to pause my delivery before the 9am cutoff."),
    ("facebook", "App has been down all morning and there's no update anywhere. Would be nice to know what's going on."),
]
OUTAGE_FAMOUS = ("x", "Can't start my kettle from bed because the @brightkettle app is down. This is the darkest timeline.")
OUTAGE_BRAND = [
    T("x",
      b("We're aware the Brightkettle app and website login aren't loading for some customers. The team is on it and we'll update here shortly. Today's delivery cutoff is extended to midday, so nobody will miss a change. 🛠️"),
      other("Thanks for the heads-up. Any idea how long?", delay=6),
      b("We're hoping within the hour, and we'll post here the moment it's back.", delay=7),
      when="2026-11-19T08:02"),
    T("x",
      b("The app and website login are back up and running. Sorry for the disruption this morning; today's delivery cutoff stays at midday. Thanks for your patience 💛"),
      other("Working again here 👍", delay=5),
      when="2026-11-19T08:47"),
    T("x", c("Oh, it's back. Panic over, carry on."), when="2026-11-19T08:49"),
]

KINDS = [
    ("complaint", COMPLAINTS), ("question", QUESTIONS), ("praise", PRAISE),
    ("suggestion", SUGGESTIONS), ("abuse", ABUSE), ("rant", RANTS), ("wrong_fact", WRONG_FACTS),
    ("safety", SAFETY), ("churn", CHURN), ("legal", LEGAL), ("press", PRESS),
    ("personal_data", PERSONAL_DATA), ("non_english", NON_ENGLISH), ("neutral", NEUTRAL),
    ("announcement", ANNOUNCEMENTS),
]


# --------------------------------------------------------------------------
# Assembly
# --------------------------------------------------------------------------

def spam_threads():
    threads = []
    for channel, handle, name, followers, text in SPAM:
        bot = {"name": name, "first": "", "handles": {channel: handle},
               "followers": {channel: followers} if followers else {}, "tz": 0}
        threads.append(dict(T(channel, c(text), sub="homebarista"), who=bot))
    return threads


def outage_threads(rng):
    start = datetime.fromisoformat(OUTAGE_START)
    items = OUTAGE + [OUTAGE_FAMOUS]
    minutes = sorted(rng.uniform(0, 59.5) for _ in items)
    rng.shuffle(items)
    threads = []
    for (channel, text), minute in zip(items, minutes, strict=True):
        at = (start + timedelta(minutes=minute)).isoformat(timespec="seconds")
        who = "benji" if (channel, text) == OUTAGE_FAMOUS else None
        threads.append(T(channel, c(text), who=who, when=at))
    return threads + OUTAGE_BRAND


def reply_delay(rng, role, private, first_brand_reply):
    """Minutes between a step and the one before it."""
    if role == "b":
        if private:
            return rng.uniform(5, 180)
        if first_brand_reply:
            # Most first replies are quick; a tail waits for the next shift (max 20 h).
            return rng.choices([rng.uniform(5, 60), rng.uniform(60, 300), rng.uniform(300, 1200)],
                               [45, 35, 20])[0]
        return rng.uniform(5, 240)
    if role == "o":
        return rng.uniform(3, 360)
    return rng.uniform(2, 60) if private else rng.uniform(10, 600)


def pick_start(rng, when, tz_hours):
    if isinstance(when, str):
        return datetime.fromisoformat(when).replace(tzinfo=UTC)
    hours = list(range(24)) if when is None else list(range(when[0], when[1] + 1))
    day = rng.choices(range(7), DAY_WEIGHTS)[0]
    hour = rng.choices(hours, [HOUR_WEIGHTS[h] for h in hours])[0]
    local = datetime(2026, 11, 16 + day, hour, rng.randrange(60), rng.randrange(60),
                     tzinfo=timezone(timedelta(hours=tz_hours)))
    return local.astimezone(UTC)


def fill(text, values):
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def build_thread(rng, thread, kind, owner, crowd):
    channel = thread["channel"]
    values = {
        "first": owner["first"],
        "order": f"BK-{rng.randint(100000, 199999)}",
        "phone": f"+44 7700 900{rng.randint(100, 999)}",
        "email": owner["handles"].get("email", ""),
    }
    values["phone_local"] = "0" + values["phone"][4:]
    canned = rng.choice(CANNED_ACK.get(channel, CANNED_ACK["x"]))
    # "o" people are fixed per thread before timing so that retries below
    # don't change who is in the conversation.
    people = [owner if role == "c" else crowd.next(avoid=(owner,)) if role == "o" else None
              for role, _, _, _ in thread["steps"]]
    while True:
        start = pick_start(rng, thread["when"], owner["tz"])
        posts, at, brand_replied = [], start, False
        for i, (role, private, text, opts) in enumerate(thread["steps"]):
            if i:
                if "delay" in opts:
                    minutes = opts["delay"] + rng.uniform(0, 0.9)
                else:
                    minutes = reply_delay(rng, role, private, role == "b" and not brand_replied)
                at = at + timedelta(minutes=minutes)
            at = at.replace(microsecond=0)
            brand_replied |= role == "b"
            if "parent" in opts:
                parent = opts["parent"]
            elif private or channel == "email":
                parent = i - 1 if i else None
            else:
                parent = next((j for j in range(i - 1, -1, -1) if not posts[j]["private"]), None)
            posts.append({
                "channel": channel, "role": role, "person": people[i],
                "private": private or channel == "email",
                "text": fill(canned if text is None else text, values),
                "at": at, "parent": parent, "lang": opts.get("lang"),
                "ooo": opts.get("ooo", False), "kind": kind, "sub": thread["sub"],
            })
        # Pinned threads are trusted; random ones retry until every line falls
        # inside the week in its author's own time zone and every brand answer
        # (even one aimed past later comments at the root) lands 5 min-20 h
        # after the post it answers.
        in_week = all(FIRST_DAY <= local_time(p).date() <= LAST_DAY for p in posts)
        answers = [p["at"] - posts[p["parent"]]["at"] for p in posts
                   if p["role"] == "b" and p["parent"] is not None
                   and posts[p["parent"]]["role"] != "b"]
        prompt = all(timedelta(minutes=5) <= gap <= timedelta(hours=20) for gap in answers)
        if isinstance(thread["when"], str) or (in_week and prompt):
            break
    for p in posts:
        p["siblings"] = posts
    return posts


def local_time(post):
    tz = 0 if post["role"] == "b" else post["person"]["tz"]
    return post["at"].astimezone(timezone(timedelta(hours=tz)))


def b36(n):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out or "0"


def assign_ids(rng, posts):
    """Ids grow with time on each channel, as platform ids do."""
    counters = {"x": 1000100, "x-dm": 500200, "facebook": 2087000100, "facebook-msg": 7300100,
                "instagram": 17900001000, "instagram-dm": 340100, "reddit-t3": 1740000,
                "reddit-t1": 60100000, "email": 880100}
    for p in posts:
        channel, root = p["channel"], p["parent"] is None and not p["private"]
        if channel == "email":
            key, prefix = "email", "em-"
        elif channel == "reddit":
            key = "reddit-t3" if root else "reddit-t1"
            prefix = "rd-t3_" if root else "rd-t1_"
        elif p["private"]:
            key = {"x": "x-dm", "facebook": "facebook-msg", "instagram": "instagram-dm"}[channel]
            prefix = {"x": "x-dm-", "facebook": "fb-msg-", "instagram": "ig-dm-"}[channel]
        else:
            key, prefix = channel, {"x": "x-", "facebook": "fb-", "instagram": "ig-"}[channel]
        counters[key] += rng.randint(3, 97)
        p["num"] = b36(counters[key]) if channel == "reddit" else str(counters[key])
        p["external_id"] = prefix + p["num"]
        if channel == "instagram" and root:
            alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
            p["shortcode"] = "".join(rng.choice(alphabet) for _ in range(11))


def author_of(p):
    if p["role"] == "b":
        return BRAND_HANDLE[p["channel"]]
    return p["person"]["handles"][p["channel"]]


def url_of(p):
    if p["private"]:
        return None
    root = p["siblings"][0]
    channel = p["channel"]
    if channel == "x":
        return f"https://x.example/{author_of(p)}/status/{p['num']}"
    if channel == "facebook":
        if p is root:
            return f"https://facebook.example/Brightkettle/posts/{p['num']}"
        return f"https://facebook.example/Brightkettle/posts/{root['num']}?comment_id={p['num']}"
    if channel == "instagram":
        if p is root:
            return f"https://instagram.example/p/{p['shortcode']}/"
        return f"https://instagram.example/p/{root['shortcode']}/c/{p['num']}/"
    if channel == "reddit":
        sub = root["sub"]
        if p is root:
            words = "".join(ch if ch.isalnum() else " " for ch in p["text"].lower()).split()[:6]
            return f"https://reddit.example/r/{sub}/comments/{p['num']}/{'_'.join(words)}/"
        return f"https://reddit.example/r/{sub}/comments/{root['num']}/comment/{p['num']}/"
    return None


def to_record(p):
    brand = p["role"] == "b"
    channel = p["channel"]
    rec = {
        "channel": channel,
        "external_id": p["external_id"],
        "author": author_of(p),
        "text": p["text"],
        "created_at": local_time(p).isoformat(timespec="seconds"),
    }
    if p["parent"] is not None:
        rec["in_reply_to"] = p["siblings"][p["parent"]]["external_id"]
    url = url_of(p)
    if url:
        rec["url"] = url
    rec["visibility"] = "private" if p["private"] else "public"
    # Reddit shows no real names and no follower counts; email has no followers.
    name = BRAND_NAME.get(channel) if brand else p["person"]["name"]
    if channel != "reddit" and name:
        rec["author_name"] = name
    followers = BRAND_FOLLOWERS.get(channel) if brand else p["person"]["followers"].get(channel)
    if channel not in ("reddit", "email") and followers:
        rec["author_followers"] = followers
    if p["lang"]:
        rec["lang"] = p["lang"]
    rec["direction"] = "outbound" if brand else "inbound"
    return rec


def main():
    rng = random.Random(SEED)
    personas, customers = build_people(rng)
    crowd = Crowd(customers, rng)

    groups = KINDS + [("spam", spam_threads()), ("outage", outage_threads(rng))]
    posts = []
    for kind, threads in groups:
        for thread in threads:
            who = thread["who"]
            # Overseas customers don't race a UK breakfast delivery cutoff.
            owner = (who if isinstance(who, dict) else personas[who] if who
                     else crowd.next(uk_only=kind == "outage"))
            posts.extend(build_thread(rng, thread, kind, owner, crowd))

    # Stable sort: equal timestamps keep their thread order.
    posts.sort(key=lambda p: p["at"])
    assign_ids(rng, posts)
    records = [to_record(p) for p in posts]

    # Late-parent case: deliver one reply a few lines ahead of the post it answers.
    ooo = next(i for i, p in enumerate(posts) if p["ooo"])
    moved = records.pop(ooo)
    parent_at = next(i for i, r in enumerate(records) if r["external_id"] == moved["in_reply_to"])
    records.insert(max(0, parent_at - 2), moved)

    OUT_PATH.parent.mkdir(parents=True, exist_ok=True)
    with OUT_PATH.open("w", encoding="utf-8", newline="\n") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")

    print(f"wrote {len(records)} lines to {OUT_PATH}")
    for kind in ("safety", "wrong_fact", "legal", "press", "churn"):
        roots = [p["external_id"] for p in posts
                 if p["kind"] == kind and p is p["siblings"][0] and p["role"] != "b"]
        print(f"  {kind}: {', '.join(roots)}")
    print(f"  out-of-order reply: {moved['external_id']} (parent {moved['in_reply_to']})")


if __name__ == "__main__":
    main()
