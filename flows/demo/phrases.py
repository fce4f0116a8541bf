"""Phrase banks for the demo feedback of "Nimbus", a fictional smart-home company.

Nimbus sells smart home devices (Nimbus Hub, Nimbus Cam, Nimbus Plug), a subscription (Nimbus
Plus) and a mobile app (Nimbus App). Everything here is pure data: the generator picks from it.

Placeholders in braces are filled per comment: ``{device}`` (a device name as customers write
it), ``{days}``, ``{late_days}``, ``{weeks}``, ``{n}``, ``{amount}``, ``{month}``,
``{weekday}``, ``{order}``, ``{code}`` and ``{name}``.

Product hints say which product a phrase is about: ``hub``, ``cam``, ``plug``, ``plus``,
``app``, ``device`` (any device, named through ``{device}``) or ``any``.
"""

from __future__ import annotations

from typing import NamedTuple

STAGES: tuple[str, ...] = (
    "need_awareness",
    "research",
    "purchase",
    "delivery",
    "onboarding",
    "usage",
    "support",
    "billing",
    "change_or_return",
    "need_end",
)

PRODUCTS: dict[str, str] = {
    "hub": "Nimbus Hub",
    "cam": "Nimbus Cam",
    "plug": "Nimbus Plug",
    "plus": "Nimbus Plus",
    "app": "Nimbus App",
}
DEVICES: tuple[str, ...] = ("hub", "cam", "plug")
DEVICE_NAMES: dict[str, tuple[str, ...]] = {
    "hub": ("Nimbus Hub", "hub", "Hub", "Nimbus hub"),
    "cam": ("Nimbus Cam", "camera", "Cam", "cam", "Nimbus camera"),
    "plug": ("Nimbus Plug", "smart plug", "plug", "Plug"),
}
PRODUCT_WEIGHTS: dict[str, int] = {"hub": 25, "cam": 25, "plug": 20, "plus": 15, "app": 15}


class Hassle(NamedTuple):
    """A recurring hassle planted in the demo data, the ground truth for ranking.

    Attributes:
        stage: Customer-journey stage where it happens.
        theme: Kind of pain (waiting, broken, surprise_cost, ...).
        share: Share of the base comments (for a new hassle: of each extra day's comments).
        growing: Whether its daily rate grows (3x in the last third of the window).
        severity: ``high``, ``medium``, ``medium_low`` or ``low``; drives ratings and scores.
        products: Product hints the complaint is about.
    """

    stage: str
    theme: str
    share: float
    growing: bool
    severity: str
    products: tuple[str, ...]


PLANTED_HASSLES: dict[str, Hassle] = {
    "refund_delay": Hassle("change_or_return", "waiting", 0.09, False, "high", DEVICES),
    "app_logout": Hassle("usage", "broken", 0.07, True, "high", ("app",)),
    "hidden_fee": Hassle("billing", "surprise_cost", 0.055, False, "high", ("plus",)),
    "repeat_explain": Hassle("support", "effort", 0.04, False, "medium", tuple(PRODUCTS)),
    "late_delivery": Hassle("delivery", "waiting", 0.03, False, "medium", DEVICES),
    "cancel_hard": Hassle("need_end", "policy_rigidity", 0.025, False, "high", ("plus",)),
    "setup_confusing": Hassle("onboarding", "confusion", 0.02, False, "medium_low", DEVICES),
    "out_of_stock": Hassle("research", "availability", 0.015, False, "low", DEVICES),
}

NEW_HASSLES: dict[str, Hassle] = {
    "promo_code_rejected": Hassle("purchase", "broken", 0.25, False, "medium", DEVICES),
}

PLANTED_PAIN: dict[str, tuple[str, ...]] = {
    "refund_delay": (
        "I sent the {device} back {weeks} weeks ago and I still haven't seen my refund.",
        "Still waiting on my refund, it's been {weeks} weeks since you received the return.",
        "My refund has been 'processing' for over {days} days now.",
        "Where is my money? The return reached your warehouse weeks ago.",
        "It took more than a month to get my money back for a returned {device}.",
        "Returned the {device} on time and the refund still hasn't arrived.",
        "The refund for my return is taking forever.",
        "You were quick to take my money but {weeks} weeks later there's no sign of the refund.",
        "Nobody can tell me when my refund will actually be paid.",
        "Your site promised a refund within 5 days, it has now been {days}.",
        "Refund still not here.",
        "I'm still chasing a refund for a {device} I returned in {month}.",
        "My return was accepted but the money never came back to my card.",
        "Waiting {weeks} weeks for a refund is ridiculous.",
        "Got the return confirmation email ages ago, still no refund on my account.",
        "The money for the returned {device} has not been credited yet, {days} days later.",
        "How long does a refund take, mine has been pending since {month}?",
        "Every week I'm told the refund is on its way and every week nothing arrives.",
        "The refund process is painfully slow.",
        "Sent back a faulty {device} and I'm still out of pocket {weeks} weeks later.",
        "My bank says nothing has been sent, even though you confirmed the refund {days} days ago.",
        "{days} days and counting for a refund on a returned {device}.",
    ),
    "app_logout": (
        "The app keeps logging me out.",
        "Every time I open the Nimbus app I have to sign in again.",
        "The app signs me out several times a day for no reason.",
        "I get kicked out of my account in the app constantly.",
        "Since the last update the app forgets my login every few hours.",
        "Having to re-enter my password every single time I open the app is driving me mad.",
        "The app randomly logs me out and then I can't check on my {device}.",
        "Why does the app log me out every day?",
        "I keep getting bounced back to the login screen.",
        "The app won't keep me signed in, even with 'remember me' ticked.",
        "Logged out of the app again, for the third time today.",
        "My session in the Nimbus app expires constantly and I have to log back in.",
        "Whenever I come back to the app after a few minutes I'm logged out.",
        "The app keeps asking me to log in again.",
        "Constant logouts make the app useless when I need to check the {device} quickly.",
        "I'm signed out of the app almost every morning.",
        "The app doesn't remember me and I have to type my password over and over.",
        "Ever since the update I get logged out of the app several times a week.",
        "Being forced to log in to the app again every time is really annoying.",
        "The Nimbus app logs me out at random.",
    ),
    "hidden_fee": (
        "I was charged a {amount} 'service fee' that was never mentioned when I signed up.",
        "There's a hidden fee on my bill that nobody told me about.",
        "My first invoice was {amount} higher than the price on the website.",
        "You charged me an extra {amount} without any warning.",
        "Surprise charges on my statement every month.",
        "The price I signed up for didn't include the {amount} activation fee.",
        "Nobody mentioned the monthly handling charge until it appeared on my card.",
        "I found an extra {amount} on my bill that was never explained.",
        "The advertised price conveniently leaves out the extra fees.",
        "Why is there a {amount} 'platform fee' on my invoice?",
        "My Nimbus Plus bill had a charge I never agreed to.",
        "Got billed for a fee that was buried in the small print.",
        "The total on my bill was way more than what was advertised.",
        "An unexplained {amount} charge showed up on my account this month.",
        "Hidden fees everywhere, the real monthly cost is much higher than advertised.",
        "I was never told about the extra {amount} a month for cloud storage.",
        "My bank statement shows a {amount} fee that I never signed up for.",
        "Unexpected extra charges on my bill, again.",
    ),
    "repeat_explain": (
        "I had to explain the whole problem again to every agent I spoke to.",
        "Every time I contact support I have to start from scratch.",
        "Each new agent asks me the same questions I already answered.",
        "I've explained my issue {n} times now to {n} different people.",
        "Nobody at support reads the previous messages, so I keep repeating myself.",
        "Why do I have to tell my story again every time I call?",
        "Your agents never look at the ticket history.",
        "I was transferred three times and had to explain everything from the beginning each time.",
        "Repeating the same details to support over and over is exhausting.",
        "The chat agent asked for my order number again even though I'd sent it twice.",
        "Each reply comes from someone new who hasn't read the conversation.",
        "I'm tired of re-explaining the same problem to your support team.",
        "Support made me go through the same troubleshooting steps I had already done twice.",
        "Had to repeat my account details to four different agents.",
        "It feels like support has no memory, every call starts at zero.",
        "Every email I get back asks me to describe the issue again.",
    ),
    "late_delivery": (
        "My order arrived {late_days} days later than the date I was given.",
        "The {device} was supposed to arrive on {weekday} and turned up a week late.",
        "Delivery took way longer than promised.",
        "Still waiting for my {device}, the tracking hasn't moved in days.",
        "The expected delivery date came and went with no package.",
        "The parcel was {late_days} days late.",
        "It took almost {weeks} weeks for my order to arrive.",
        "Shipping was painfully slow, nothing like the 2-day delivery you advertise.",
        "My {device} finally showed up, a full week after the promised date.",
        "The delivery got pushed back again and again.",
        "Ordered the {device} as a gift and it arrived after the birthday.",
        "Tracking said 'out for delivery' for three days straight.",
        "Delivery was late.",
        "Waited ages for the package to arrive.",
        "The courier missed the delivery window twice, so the order came days late.",
    ),
    "cancel_hard": (
        "Cancelling Nimbus Plus is almost impossible.",
        "There's no way to cancel my subscription online, I had to call.",
        "I tried to cancel and got stuck in an endless retention loop.",
        "The cancel button is hidden so deep in the settings I couldn't find it.",
        "You make it far too hard to end the subscription.",
        "I've asked to cancel {n} times and my plan is still active.",
        "Why do I have to phone during office hours just to cancel?",
        "It took me {n} calls to close my Nimbus Plus account.",
        "Cancelling requires a phone call and a 30-minute wait.",
        "They kept pushing offers at me instead of just cancelling my plan.",
        "I can't cancel from the app, only by sending a letter or calling.",
        "Ending my subscription was a nightmare.",
        "The agent refused to cancel until I agreed to talk to a 'specialist'.",
        "Unsubscribing from Nimbus Plus should not take {weeks} weeks.",
        "Signing up took one click but cancelling took an hour on the phone.",
        "There's no cancel option in my account, just a 'pause' button.",
    ),
    "setup_confusing": (
        "The setup instructions for the {device} are really confusing.",
        "I couldn't figure out how to connect the {device} to my wifi.",
        "Pairing the {device} with the app took me over an hour of trial and error.",
        "The quick start guide skips half the steps.",
        "It wasn't clear which button to press to put the {device} in pairing mode.",
        "Setup was a confusing mess of QR codes and blinking lights.",
        "The setup wizard in the app kept asking for things that weren't explained.",
        "I had no idea what the different colours of the light meant during setup.",
        "Getting the {device} set up was much harder than it should be.",
        "The manual says one thing and the app says another during installation.",
        "Took three attempts to get the {device} connected because the steps are so unclear.",
        "Setup instructions are vague.",
        "I had to watch a YouTube video to work out how to install the {device}.",
        "Nothing in the box explains how to add a second {device} to the system.",
        "The activation steps are confusing and badly explained.",
    ),
    "out_of_stock": (
        "The {device} has been out of stock for weeks.",
        "I wanted to buy the {device} but it's always sold out.",
        "Every time I check, the {device} is unavailable.",
        "Out of stock again, I'll probably buy a competitor instead.",
        "The {device} I want is never in stock.",
        "Can't buy the {device} anywhere, it's sold out on your site and in stores.",
        "Your site has shown the {device} as 'coming soon' for over a month now.",
        "The {device} sold out before I could order it, again.",
        "I've been trying to get a {device} for {weeks} weeks but there's never any stock.",
        "Nowhere to buy the {device}, it's been unavailable since {month}.",
        "Hard to recommend a product that's permanently out of stock.",
        "The white version of the {device} has been sold out forever.",
        "Stock of the {device} keeps running out within hours.",
        "I was ready to buy but the {device} was sold out in my country.",
        "Wanted to order two more but they're out of stock everywhere.",
        "Listed as out of stock every time I visit.",
        "No stock of the {device} for ages.",
        "The {device} bundle I wanted isn't available anywhere.",
    ),
    "promo_code_rejected": (
        "My promo code keeps getting rejected at checkout.",
        "The discount code from your email says 'invalid' when I try to use it.",
        "Checkout won't accept the promo code you sent me.",
        "I entered {code} and it says the code has expired, but the email says it's valid.",
        "The voucher code doesn't work.",
        "Your promo code gives an error every time I apply it.",
        "Tried the discount code in the app and on the website, rejected on both.",
        "The {code} code isn't being applied to my order.",
        "Promo code not recognised at checkout.",
        "Why does the code from your newsletter not work?",
        "The coupon field says my code is invalid.",
        "I couldn't redeem the discount code, the site just throws an error.",
        "The 20% off code you advertised fails at payment.",
        "Applied the promo code and the price didn't change.",
    ),
}

PLANTED_CONTEXT: dict[str, tuple[str, ...]] = {
    "refund_delay": (
        "I returned the {device} because it didn't suit my flat.",
        "The {device} was a duplicate gift, so I sent it back unopened.",
        "I followed the return instructions to the letter.",
        "The return label was easy enough to print.",
        "The courier collected the parcel on {weekday}.",
    ),
    "app_logout": (
        "I use the app every day to check the {device}.",
        "I mostly open the app when I'm away from home.",
        "I'm on the latest version of the app.",
        "My phone is only a few months old.",
    ),
    "hidden_fee": (
        "I signed up for Nimbus Plus in {month}.",
        "I chose the monthly plan because of the advertised price.",
        "I've been a Nimbus Plus subscriber for about a year.",
        "I checked my bank statement this morning.",
    ),
    "repeat_explain": (
        "I've been in touch with support about my {device}.",
        "My ticket has been open for a while now.",
        "I've used the chat, email and the phone line.",
        "My order number is {order}.",
    ),
    "late_delivery": (
        "I ordered the {device} on {weekday}.",
        "I paid for standard shipping.",
        "The order confirmation came straight away.",
        "I took the day off to be home for the delivery.",
    ),
    "cancel_hard": (
        "I'm moving abroad so I no longer need the subscription.",
        "We've sold the house, so Nimbus Plus is no use to us now.",
        "I only signed up for the free trial.",
        "I don't use the cloud recordings any more.",
    ),
    "setup_confusing": (
        "I just unboxed the {device} this weekend.",
        "I'm fairly good with tech, for what it's worth.",
        "This is my first smart home device.",
        "I bought the {device} to go with my existing setup.",
    ),
    "out_of_stock": (
        "I'm slowly building out my smart home.",
        "A friend recommended the {device} to me.",
        "I already have two Nimbus devices and wanted one more.",
        "I've checked your website every few days.",
    ),
    "promo_code_rejected": (
        "I got the discount code in your newsletter.",
        "I was about to order a {device} for my parents.",
        "The code was in the email you sent on {weekday}.",
    ),
}

PLANTED_TITLES: dict[str, tuple[str, ...]] = {
    "refund_delay": ("Still no refund", "Refund nightmare", "Where is my money?", "Slow refund"),
    "app_logout": ("Keeps logging me out", "Login issues", "Annoying app", "Logged out again"),
    "hidden_fee": ("Hidden fees", "Not the advertised price", "Surprise charge", "Watch your bill"),
    "repeat_explain": ("Support goes in circles", "Exhausting support", "Same questions again"),
    "late_delivery": ("Late delivery", "Took forever to arrive", "Slow shipping"),
    "cancel_hard": ("Impossible to cancel", "Cancellation hell", "Let me leave"),
    "setup_confusing": ("Confusing setup", "Setup was a pain", "Instructions unclear"),
    "out_of_stock": ("Never in stock", "Sold out", "Can't buy it"),
    "promo_code_rejected": ("Promo code broken", "Discount code doesn't work", "Invalid code?"),
}

PLANTED_SUBJECTS: dict[str, tuple[str, ...]] = {
    "refund_delay": (
        "Refund status",
        "Where is my refund?",
        "Return {order}",
        "Refund not received",
    ),
    "app_logout": (
        "App keeps logging me out",
        "Login problem",
        "App issue",
        "Can't stay logged in",
    ),
    "hidden_fee": ("Question about my bill", "Unexpected charge", "Invoice query", "Extra fee?"),
    "repeat_explain": ("Follow-up on my case", "Still not resolved", "Complaint", "My open ticket"),
    "late_delivery": ("Where is my order?", "Order {order}", "Delivery delay", "Late parcel"),
    "cancel_hard": ("Cancel my subscription", "Cancellation", "Please cancel Nimbus Plus"),
    "setup_confusing": ("Setup help", "Can't set up my {device}", "Installation question"),
    "out_of_stock": ("Stock question", "When is the {device} back in stock?", "Availability"),
    "promo_code_rejected": ("Promo code not working", "Discount code", "Checkout problem"),
}

PLANTED_FOLLOWUPS: dict[str, tuple[str, ...]] = {
    "refund_delay": ("Still no refund.", "Any news on the refund?", "The money still isn't there."),
    "app_logout": ("It happened again this morning.", "Same thing again today."),
    "hidden_fee": ("I want that charge removed.", "Please explain the charge on my bill."),
    "repeat_explain": ("Please read the thread before replying.", "It's all in my first message."),
    "late_delivery": ("Still no parcel.", "Tracking still hasn't changed."),
    "cancel_hard": ("Please just cancel it.", "I want written confirmation of the cancellation."),
    "setup_confusing": ("Still can't get it working.", "Tried the steps again, no luck."),
    "out_of_stock": ("Any idea when it'll be back?",),
    "promo_code_rejected": ("The code still doesn't work.", "Tried again, same error."),
}

# (stage, theme, product hint, sentence). None of these paraphrase a planted hassle.
ONE_OFF_COMPLAINTS: tuple[tuple[str, str, str, str], ...] = (
    (
        "need_awareness",
        "confusion",
        "plug",
        "I only realised I needed a Hub after the plugs I bought wouldn't work on their own.",
    ),
    (
        "need_awareness",
        "worry",
        "cam",
        "After a break-in next door I started looking at cameras, "
        "but your website made me more anxious, not less.",
    ),
    (
        "need_awareness",
        "effort",
        "hub",
        "My old router kept dropping so I started looking, "
        "and it took ages to work out whether the Hub would even help.",
    ),
    (
        "need_awareness",
        "worry",
        "cam",
        "I'm worried about privacy with cameras in the house "
        "and nothing on your site addresses it.",
    ),
    (
        "need_awareness",
        "confusion",
        "plug",
        "My energy bill doubled so I went looking for smart plugs, "
        "but it's unclear if yours actually measure usage.",
    ),
    (
        "need_awareness",
        "poor_treatment",
        "any",
        "I asked in the shop whether Nimbus could help my elderly mum and the staff just shrugged.",
    ),
    (
        "need_awareness",
        "worry",
        "hub",
        "We had a water leak while on holiday and I still can't tell if Nimbus covers that.",
    ),
    (
        "need_awareness",
        "confusion",
        "hub",
        "I didn't know whether I needed the Hub or just the app to get started.",
    ),
    (
        "need_awareness",
        "effort",
        "any",
        "Working out which Nimbus device solves my problem felt like homework.",
    ),
    (
        "research",
        "confusion",
        "plus",
        "The comparison page doesn't explain the difference between Nimbus Plus and the free plan.",
    ),
    (
        "research",
        "confusion",
        "device",
        "I can't find the actual specs for the {device} anywhere on your site.",
    ),
    (
        "research",
        "confusion",
        "plus",
        "The plans page never says what happens to recordings on the basic tier.",
    ),
    (
        "research",
        "worry",
        "cam",
        "Reviews say the Cam works with Google Home but your site doesn't confirm it.",
    ),
    (
        "research",
        "effort",
        "plug",
        "I had to dig through forums to find out whether the Plug handles a 16 amp heater.",
    ),
    (
        "research",
        "confusion",
        "device",
        "Is the {device} compatible with Apple Home or not, the product page contradicts itself.",
    ),
    (
        "research",
        "poor_treatment",
        "any",
        "The pre-sales chat ignored my question about power consumption.",
    ),
    (
        "research",
        "confusion",
        "device",
        "The product photos don't match the model you actually sell.",
    ),
    (
        "research",
        "worry",
        "cam",
        "I couldn't find any information on how long you keep my camera footage.",
    ),
    ("purchase", "broken", "any", "The checkout page froze when I clicked pay."),
    ("purchase", "broken", "any", "My card was declined on your site but works everywhere else."),
    ("purchase", "effort", "plug", "I had to create an account just to buy one plug."),
    (
        "purchase",
        "confusion",
        "any",
        "Checkout asked for my address three times in slightly different forms.",
    ),
    (
        "purchase",
        "broken",
        "any",
        "PayPal isn't offered at payment even though the FAQ says it is.",
    ),
    (
        "purchase",
        "worry",
        "device",
        "I never got an order confirmation, so I don't know if my order went through.",
    ),
    (
        "purchase",
        "poor_treatment",
        "device",
        "The shop assistant was really pushy about the extended warranty.",
    ),
    (
        "purchase",
        "confusion",
        "hub",
        "It wasn't clear whether the starter bundle includes the Hub.",
    ),
    (
        "purchase",
        "broken",
        "any",
        "The basket emptied itself when I switched from the app to the website.",
    ),
    (
        "delivery",
        "broken",
        "device",
        "The box arrived crushed and the {device} had a cracked case.",
    ),
    (
        "delivery",
        "poor_treatment",
        "device",
        "The courier left my parcel in the rain next to the bins.",
    ),
    ("delivery", "broken", "device", "My order came without the power adapter."),
    ("delivery", "effort", "device", "I had to collect the parcel from a depot 20 km away."),
    (
        "delivery",
        "confusion",
        "plug",
        "I got someone else's order, a Cam instead of the Plug I paid for.",
    ),
    ("delivery", "worry", "device", "The tracking link shows somebody else's address."),
    (
        "delivery",
        "poor_treatment",
        "device",
        "The driver was rude when I asked him to bring the box to the door.",
    ),
    (
        "delivery",
        "policy_rigidity",
        "device",
        "You can't change the delivery address once the order is placed.",
    ),
    ("delivery", "broken", "plug", "Only two of the three plugs I ordered were in the box."),
    (
        "onboarding",
        "broken",
        "device",
        "The {device} got stuck at 80% while updating its firmware during first use.",
    ),
    ("onboarding", "broken", "any", "The account activation email never arrived."),
    (
        "onboarding",
        "effort",
        "plug",
        "Creating an account needed a phone number, an email and a code, just to turn on a plug.",
    ),
    (
        "onboarding",
        "worry",
        "app",
        "The app wanted access to my contacts and location before I could even start.",
    ),
    (
        "onboarding",
        "broken",
        "cam",
        "The QR code on the bottom of the Cam is printed too faintly to scan.",
    ),
    (
        "onboarding",
        "poor_treatment",
        "any",
        "The welcome email was basically three pages of upselling.",
    ),
    (
        "onboarding",
        "effort",
        "cam",
        "I had to install two separate apps to get the Hub and the Cam working together.",
    ),
    (
        "onboarding",
        "worry",
        "hub",
        "The first-run screen asked me to disable my firewall, which seems risky.",
    ),
    (
        "onboarding",
        "policy_rigidity",
        "device",
        "I can't start using the {device} without agreeing to share usage data.",
    ),
    ("usage", "broken", "cam", "The Cam's night vision is so blurry it's useless."),
    ("usage", "broken", "plug", "My plug switches itself off at random during the night."),
    (
        "usage",
        "broken",
        "cam",
        "Motion alerts arrive a minute after the person has already left.",
    ),
    ("usage", "broken", "hub", "The Hub drops off the wifi every few days and needs a reboot."),
    (
        "usage",
        "quality",
        "cam",
        "The Cam's speaker crackles so badly you can't understand anyone.",
    ),
    ("usage", "worry", "hub", "The Hub gets really hot after a few hours."),
    (
        "usage",
        "quality",
        "plug",
        "The LED on the Plug is far too bright in the bedroom and can't be turned off.",
    ),
    (
        "usage",
        "broken",
        "cam",
        "The Cam battery lasts two weeks, not the six months you advertise.",
    ),
    ("usage", "broken", "plug", "The energy readings on the plug are clearly wrong."),
    (
        "usage",
        "worry",
        "cam",
        "The Cam records the neighbours' garden and there's no way to mask it out.",
    ),
    ("usage", "broken", "app", "The home screen widget always shows the wrong status."),
    ("usage", "broken", "hub", "Schedules on the Hub run an hour late since the clocks changed."),
    ("support", "waiting", "any", "I waited 45 minutes on hold before anyone picked up."),
    (
        "support",
        "poor_treatment",
        "any",
        "The agent was condescending and kept telling me to restart my phone.",
    ),
    ("support", "waiting", "any", "My email to support went unanswered for a week."),
    (
        "support",
        "poor_treatment",
        "any",
        "The chat agent closed the conversation while I was still typing.",
    ),
    ("support", "broken", "any", "The contact form errors out when you attach a photo."),
    ("support", "poor_treatment", "any", "I was promised a callback that never came."),
    (
        "support",
        "confusion",
        "app",
        "The help centre articles show screens that no longer exist in the app.",
    ),
    (
        "support",
        "availability",
        "any",
        "Support is only open on weekdays 9 to 5, which is useless if you work.",
    ),
    (
        "support",
        "poor_treatment",
        "hub",
        "The agent blamed my wifi without even looking at the Hub's logs.",
    ),
    (
        "support",
        "worry",
        "any",
        "Support asked me to email them my password, which felt very wrong.",
    ),
    ("billing", "broken", "plus", "I can't download my invoices, the link just spins."),
    (
        "billing",
        "confusion",
        "plus",
        "My billing date moved from the 1st to the 17th without any explanation.",
    ),
    ("billing", "broken", "app", "The app won't let me update my expired card."),
    ("billing", "policy_rigidity", "plus", "You only accept card payments, no direct debit."),
    (
        "billing",
        "confusion",
        "plus",
        "The invoice doesn't show my company VAT number even though I entered it.",
    ),
    (
        "billing",
        "worry",
        "plus",
        "I got a 'payment failed' email even though the money left my account.",
    ),
    (
        "billing",
        "policy_rigidity",
        "plus",
        "Invoices are in English only and my accountant needs them in German.",
    ),
    ("billing", "effort", "plus", "Changing my billing address needs a call to support."),
    ("billing", "confusion", "plus", "My invoice lists devices I don't own."),
    (
        "billing",
        "broken",
        "plus",
        "My invoice still shows the old plan name even though I switched months ago.",
    ),
    (
        "change_or_return",
        "policy_rigidity",
        "device",
        "You only take returns in the original packaging, which I'd already thrown away.",
    ),
    (
        "change_or_return",
        "effort",
        "device",
        "I had to print the return label myself because the QR option didn't work.",
    ),
    (
        "change_or_return",
        "policy_rigidity",
        "hub",
        "Upgrading from the old Hub means paying full price, there's no trade-in at all.",
    ),
    (
        "change_or_return",
        "broken",
        "plus",
        "Downgrading my plan deleted my saved recordings without warning.",
    ),
    (
        "change_or_return",
        "poor_treatment",
        "device",
        "The exchange {device} you sent was clearly a used unit.",
    ),
    (
        "change_or_return",
        "policy_rigidity",
        "cam",
        "The 14-day return window is too short for a camera you have to test outdoors.",
    ),
    (
        "change_or_return",
        "effort",
        "plug",
        "To exchange a faulty plug I had to ship it back at my own cost.",
    ),
    (
        "change_or_return",
        "confusion",
        "plus",
        "It's not clear whether I can switch from monthly to yearly without losing my discount.",
    ),
    (
        "change_or_return",
        "broken",
        "device",
        "The returns portal says my order number doesn't exist.",
    ),
    (
        "change_or_return",
        "poor_treatment",
        "cam",
        "Your warehouse claimed my returned Cam was damaged "
        "when it left here in perfect condition.",
    ),
    (
        "need_end",
        "worry",
        "cam",
        "I closed my account but I'm not sure my camera footage was actually deleted.",
    ),
    (
        "need_end",
        "poor_treatment",
        "plus",
        "After I left I got daily emails begging me to come back.",
    ),
    (
        "need_end",
        "confusion",
        "plus",
        "Nobody could tell me what happens to the devices when the subscription ends.",
    ),
    (
        "need_end",
        "worry",
        "plug",
        "Will my plugs stop working once I stop paying for Nimbus Plus, "
        "nobody gives a straight answer.",
    ),
    (
        "need_end",
        "broken",
        "hub",
        "I deleted my account and the Hub still keeps sending me notifications.",
    ),
    (
        "need_end",
        "effort",
        "cam",
        "Exporting my recordings before leaving was a manual, one-by-one job.",
    ),
    (
        "need_end",
        "policy_rigidity",
        "device",
        "You won't let me transfer the devices to the new owners of my house.",
    ),
    ("need_end", "poor_treatment", "any", "When I said I was leaving the agent got quite rude."),
    ("need_end", "confusion", "hub", "I don't know how to wipe the Hub before selling it."),
    ("need_end", "worry", "any", "My data is still on your servers months after I left."),
)

# (product hint, sentence): the main sentence of a positive comment, across the journey.
PRAISE: tuple[tuple[str, str], ...] = (
    ("cam", "After the break-in next door the Cam gave us real peace of mind."),
    ("plug", "I bought the plugs to cut my energy bill and it actually worked."),
    ("hub", "I needed something simple for my parents and the Hub was perfect."),
    ("plus", "The comparison page made choosing a plan easy."),
    ("any", "The pre-sales chat answered all my questions in minutes."),
    ("device", "Ordering the {device} was quick and painless."),
    ("any", "Checkout took less than a minute."),
    ("device", "Delivery was super fast, the {device} arrived the next day."),
    ("device", "Well packaged and right on time."),
    ("device", "Setup took five minutes, really easy."),
    ("device", "The {device} connected on the first try."),
    ("app", "The app walked me through setup step by step, brilliant."),
    ("cam", "The Cam picture quality is brilliant, even at night."),
    ("app", "The app is clean and easy to use."),
    ("device", "Love my {device}!"),
    ("device", "The {device} works perfectly with Alexa."),
    ("plug", "The plugs have saved me real money on electricity."),
    ("hub", "Rock solid, the Hub hasn't had a single issue in a year."),
    ("cam", "Motion alerts are fast and accurate."),
    ("app", "The new app update is a big improvement."),
    ("plus", "Nimbus Plus is worth it just for the 30 days of recordings."),
    ("any", "Support sorted my issue in one call."),
    ("any", "Big thanks to Sam from support, very patient and helpful."),
    ("any", "Fast, friendly help from the support team."),
    ("plus", "Billing is clear and I always know what I'm paying."),
    ("plus", "The yearly plan is good value."),
    ("plug", "Returning the extra plug was easy and the money was back within two days."),
    ("cam", "They swapped my faulty Cam without any fuss."),
    ("plus", "When I moved abroad, stopping the subscription took two clicks."),
    ("hub", "Closing my account was quick and they even helped me wipe the Hub."),
    ("any", "Even when I left, the team was friendly and helpful."),
    ("device", "Great product, does exactly what it says."),
    ("device", "The {device} is excellent value for money."),
    ("any", "Would recommend Nimbus to anyone."),
    ("device", "Best smart home kit I've owned."),
    ("hub", "My whole house runs off the Hub now and it just works."),
    ("cam", "The Cam caught a parcel thief on day two, worth every penny."),
    ("app", "Geofencing in the app is clever, the lights come on as I get home."),
    ("plug", "The plugs are tiny and don't block the other socket."),
    ("device", "Really happy with my {device}."),
    ("any", "Five stars, no complaints at all."),
    ("device", "Solid hardware and a nice app."),
)

GENERAL_PRAISE: tuple[str, ...] = (
    "Would recommend.",
    "Very happy.",
    "Thanks Nimbus!",
    "Great job.",
    "Keep it up.",
    "Couldn't be happier.",
    "Five stars from me.",
    "Highly recommended.",
    "Already ordered another one.",
    "My family loves it too.",
)

# (product hint, sentence): neutral remarks, suggestions and questions.
NEUTRAL: tuple[tuple[str, str], ...] = (
    ("device", "Does the {device} work with Google Home?"),
    ("app", "Is there a way to share access with my partner?"),
    ("device", "It's fine, nothing special."),
    ("device", "Bought the {device} last week, too early to say."),
    ("device", "Average product for the price."),
    ("device", "Does what it says, no more no less."),
    ("cam", "Can I use the Cam outdoors in winter?"),
    ("plus", "Is Nimbus Plus required for motion alerts?"),
    ("device", "Works ok."),
    ("plug", "I use the plugs mainly for the lamps in the living room."),
    ("app", "It would be nice to have a dark mode in the app."),
    ("any", "Any plans for a video doorbell?"),
    ("app", "How do I add a second user?"),
    ("hub", "The hub is ok, the app is ok."),
    ("device", "Switched from another brand, so far it's about the same."),
    ("plus", "Can I pay yearly instead of monthly?"),
    ("plug", "Do the plugs work with UK sockets?"),
    ("hub", "What's the warranty on the Hub?"),
    ("cam", "Would love a wider angle lens on the next Cam."),
    ("app", "The app has a lot of menus, it takes some getting used to."),
    ("device", "Haven't used the {device} much yet."),
    ("any", "Got it as a gift, seems decent."),
    ("hub", "Can the Hub run without internet?"),
    ("plus", "I'm on the free plan for now, might upgrade later."),
    ("cam", "The Cam is a bit bigger than I expected."),
    ("any", "Just filling in the survey, nothing to add really."),
    ("device", "Mixed feelings, some things great, some things meh."),
    ("app", "Please add widgets for iPad."),
    ("plug", "Is there a 3-pack of plugs?"),
    ("any", "Neither good nor bad."),
)

# (product hint, sentence): background about the customer, neither complaint nor praise.
CONTEXT: tuple[tuple[str, str], ...] = (
    ("device", "I've had the {device} for about a year."),
    ("device", "We have a {device} in the hallway and two plugs in the lounge."),
    ("plus", "I've been on Nimbus Plus since {month}."),
    ("device", "Bought the {device} for my mum."),
    ("app", "I mostly use the app to check on things when I'm away."),
    ("any", "We have a few Nimbus devices at home."),
    ("any", "Long-time customer here."),
    ("any", "I work from home so I use Nimbus a lot."),
    ("device", "The {device} was a birthday present."),
    ("any", "We moved into a new flat in {month}."),
    ("app", "I'm on an Android phone."),
    ("app", "I have an iPhone 13."),
)

MIXED_PRAISE: tuple[str, ...] = (
    "The {device} itself is great.",
    "The hardware is good, to be fair.",
    "I like the product.",
    "The app looks nice, I'll give it that.",
    "I've been happy with Nimbus until now.",
)

OUTCOMES: dict[str, tuple[str, ...]] = {
    "high": (
        "Never again.",
        "Absolutely unacceptable.",
        "I'm done with Nimbus.",
        "Worst customer experience I've had in years.",
        "Avoid.",
        "One star, and that's generous.",
        "I'll be telling everyone I know to stay away.",
        "Furious.",
        "Shocking service.",
    ),
    "medium": (
        "Really frustrating.",
        "Please sort this out.",
        "Not what I expected from Nimbus.",
        "Quite disappointed.",
        "This needs fixing.",
        "So annoying.",
        "I expected better.",
    ),
    "medium_low": (
        "A bit frustrating.",
        "Could be a lot better.",
        "Not the end of the world, but annoying.",
        "Please improve this.",
    ),
    "low": (
        "Bit of a shame.",
        "Hope this gets sorted soon.",
        "Otherwise fine.",
        "Would be nice to see this improved.",
    ),
}

REQUESTS: tuple[str, ...] = (
    "Can you help?",
    "Please advise.",
    "What are my options?",
    "Can someone look into this please?",
    "Please get back to me asap.",
    "I'd like this resolved this week.",
    "What can you do about it?",
)

GREETINGS: tuple[str, ...] = (
    "Hi,",
    "Hello,",
    "Hi there,",
    "Dear Nimbus team,",
    "Good morning,",
    "Hello Nimbus,",
    "Hey,",
)
SIGNOFFS: tuple[str, ...] = (
    "Thanks,\n{name}",
    "Regards,\n{name}",
    "Cheers",
    "Thanks in advance.",
    "Kind regards,\n{name}",
    "{name}",
    "Thank you.",
)
NAMES: tuple[str, ...] = (
    "Anna",
    "Tom",
    "Priya",
    "Marco",
    "Sophie",
    "James",
    "Lena",
    "Omar",
    "Julia",
    "Ben",
    "Chloe",
    "Daniel",
    "Fatima",
    "Lukas",
    "Emma",
    "Raj",
)

REVIEW_TITLES: dict[str, tuple[str, ...]] = {
    "complaint": (
        "Terrible",
        "Very disappointed",
        "Avoid",
        "Not happy",
        "Frustrating",
        "Could be better",
        "Poor service",
        "Meh",
        "Really??",
        "Disappointing",
    ),
    "praise": (
        "Great product",
        "Love it!",
        "5 stars",
        "Works perfectly",
        "Excellent",
        "Very happy",
        "Brilliant",
        "Recommended",
        "Top notch",
    ),
    "neutral": ("OK", "Decent", "Does the job", "Question", "Not bad", "Average"),
}

STAGE_SUBJECTS: dict[str, tuple[str, ...]] = {
    "need_awareness": ("Which product do I need?", "Advice please"),
    "research": ("Product question", "Compatibility question", "Plans"),
    "purchase": ("Problem with my order", "Payment problem", "Checkout"),
    "delivery": ("Problem with my delivery", "Order {order}", "Damaged parcel"),
    "onboarding": ("Getting started", "New device problem", "Activation"),
    "usage": ("Problem with my {device}", "Device not working properly", "Bug"),
    "support": ("Complaint about support", "Feedback on service", "Unhappy"),
    "billing": ("Billing question", "Invoice", "Payment details"),
    "change_or_return": ("Return request", "Exchange", "Change my plan"),
    "need_end": ("Closing my account", "Data deletion", "Leaving Nimbus"),
}
PRAISE_SUBJECTS: tuple[str, ...] = ("Thank you!", "Compliment", "Feedback", "Just a thank you")
NEUTRAL_SUBJECTS: tuple[str, ...] = ("Question", "Quick question", "Enquiry", "Info request")

AGENT_REPLIES: dict[str, tuple[str, ...]] = {
    "complaint": (
        "Thanks for reaching out. I've passed this on to the relevant team.",
        "Sorry for the trouble! Could you please confirm your order number?",
        "Thank you for your patience, we're looking into it.",
        "I've added a note to your account and our team will get back to you within 48 hours.",
        "Could you send us a screenshot of what you're seeing?",
        "I understand how frustrating this must be. I've escalated your case.",
        "Thanks for the details, I'll update you as soon as I hear back.",
        "I'm sorry to hear that. Let me check this for you.",
    ),
    "praise": (
        "Thank you so much for the kind words! I'll share them with the team.",
        "That's lovely to hear, thanks for taking the time to write to us.",
        "Thanks for the feedback, it made our day!",
    ),
    "neutral": (
        "Good question! You'll find the details in our help centre under 'Devices'.",
        "Thanks for your message. Yes, that is possible, I've sent you the steps by email.",
        "Thanks for asking. That isn't available yet, but I've passed it on to the product team.",
        "Thanks for your message! Is there anything else I can help with?",
    ),
}
AUTO_REPLY = (
    "Thanks for contacting Nimbus Support! We've received your request and will reply within "
    "24 hours."
)
AGENT_SIGNATURES: tuple[str, ...] = ("Sam", "Alex", "Nina", "Jordan", "Maya", "Chris")

CUSTOMER_FOLLOWUPS: dict[str, tuple[str, ...]] = {
    "complaint": (
        "Any update?",
        "Still waiting for an answer.",
        "Hello? Is anyone there?",
        "I've attached a screenshot.",
        "My order number is {order}.",
        "That didn't help.",
        "Tried that, same result.",
        "This is really not good enough.",
        "Ok, thanks.",
    ),
    "praise": ("Thanks again!", "No need to reply, just wanted to say thanks."),
    "neutral": ("Thanks, that answers it.", "Great, thank you!", "Ok, I'll try that."),
}

NPS_QUESTION = "How likely are you to recommend Nimbus to a friend?"
CSAT_QUESTIONS: dict[str, str] = {
    "support": "How satisfied were you with your recent support experience?",
    "order": "How satisfied are you with your recent order?",
    "setup": "How satisfied are you with setting up your device?",
    "product": "How satisfied are you with your Nimbus products?",
    "account": "How satisfied are you with your Nimbus account and billing?",
    "returns": "How satisfied were you with our returns process?",
}
CSAT_TOPIC: dict[str, str] = {
    "need_awareness": "order",
    "research": "order",
    "purchase": "order",
    "delivery": "order",
    "onboarding": "setup",
    "usage": "product",
    "support": "support",
    "billing": "account",
    "change_or_return": "returns",
    "need_end": "account",
}
TICKET_TOPIC_TAGS: dict[str, str] = {
    "need_awareness": "presales",
    "research": "presales",
    "purchase": "order",
    "delivery": "delivery",
    "onboarding": "setup",
    "usage": "technical",
    "support": "complaint",
    "billing": "billing",
    "change_or_return": "returns",
    "need_end": "cancellation",
}
TICKET_SOURCES: tuple[str, ...] = ("web_form", "email", "chat", "mobile_app")

PROMO_CODES: tuple[str, ...] = ("NIMBUS20", "WELCOME15", "HOME10", "WINTER25", "FRIENDS")
AMOUNTS: tuple[str, ...] = ("2.99", "4.99", "5", "7.50", "9.99", "12", "14.99", "19.99")
WEEKS: tuple[str, ...] = ("two", "three", "four", "five", "six", "2", "3", "4", "5")
WEEKDAYS: tuple[str, ...] = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)


class Language(NamedTuple):
    """Hand-written phrases for comments in a language other than English.

    Attributes:
        praise: Positive sentences as ``(product hint, sentence)``.
        neutral: Neutral remarks and questions as ``(product hint, sentence)``.
        complaints: One-off complaints as ``(stage, theme, product hint, sentence)``.
        planted: Planted-hassle sentences by hassle key (not every language has every one).
        outcomes: Short closing remarks for complaints.
        greetings: Ticket openings.
        signoffs: Ticket closings.
        titles: Review titles by sentiment.
        followups: A customer's follow-up in a ticket.
    """

    praise: tuple[tuple[str, str], ...]
    neutral: tuple[tuple[str, str], ...]
    complaints: tuple[tuple[str, str, str, str], ...]
    planted: dict[str, tuple[str, ...]]
    outcomes: tuple[str, ...]
    greetings: tuple[str, ...]
    signoffs: tuple[str, ...]
    titles: dict[str, tuple[str, ...]]
    followups: tuple[str, ...]


FOREIGN_LANGUAGES: dict[str, Language] = {
    "es": Language(
        praise=(
            ("device", "Me encanta el {device}, funciona perfectamente."),
            ("device", "La instalación fue muy fácil, en cinco minutos estaba todo listo."),
            ("cam", "Muy buena calidad de imagen, incluso de noche."),
            ("device", "El pedido llegó antes de lo previsto, muy contentos."),
            (
                "any",
                "El servicio de atención al cliente me resolvió el problema enseguida, gracias.",
            ),
        ),
        neutral=(
            ("device", "¿El {device} es compatible con Google Home?"),
            ("any", "Está bien, nada especial."),
            ("plus", "¿Se puede pagar Nimbus Plus de forma anual?"),
        ),
        complaints=(
            ("usage", "broken", "cam", "La visión nocturna de la cámara es muy borrosa."),
            ("support", "waiting", "any", "Estuve cuarenta minutos esperando al teléfono."),
            ("delivery", "broken", "plug", "La caja llegó aplastada y el enchufe no funciona."),
        ),
        planted={
            "refund_delay": (
                "Devolví el {device} hace tres semanas y todavía no me han devuelto el dinero.",
                "Sigo esperando el reembolso, ya van más de veinte días.",
            ),
            "app_logout": (
                "La aplicación me cierra la sesión cada dos por tres.",
                "Cada vez que abro la app tengo que volver a iniciar sesión.",
            ),
            "hidden_fee": ("Me han cobrado una tarifa que nadie me mencionó al contratar.",),
            "repeat_explain": (
                "Cada vez que llamo tengo que explicar todo el problema desde el principio.",
            ),
            "late_delivery": ("El pedido llegó con una semana de retraso.",),
            "cancel_hard": ("Es casi imposible cancelar la suscripción a Nimbus Plus.",),
            "setup_confusing": ("Las instrucciones de instalación son muy confusas.",),
            "out_of_stock": ("El {device} lleva semanas agotado.",),
        },
        outcomes=("Muy decepcionado.", "No lo recomiendo.", "Qué desastre."),
        greetings=("Hola,", "Buenos días,"),
        signoffs=("Gracias.", "Saludos."),
        titles={
            "complaint": ("Muy decepcionado", "Fatal"),
            "praise": ("Genial", "Muy recomendable"),
            "neutral": ("Correcto",),
        },
        followups=("¿Alguna novedad?", "Sigo esperando."),
    ),
    "de": Language(
        praise=(
            ("device", "Der {device} funktioniert einwandfrei, ich bin sehr zufrieden."),
            ("device", "Die Einrichtung war kinderleicht."),
            ("device", "Schnelle Lieferung und gut verpackt."),
            ("cam", "Super Bildqualität, auch nachts."),
            ("any", "Der Kundenservice war sehr freundlich und hat sofort geholfen."),
        ),
        neutral=(
            ("device", "Funktioniert der {device} auch mit Apple Home?"),
            ("any", "Ganz okay, nichts Besonderes."),
            ("plus", "Gibt es Nimbus Plus auch als Jahresabo?"),
        ),
        complaints=(
            ("usage", "broken", "plug", "Die Steckdose schaltet sich nachts einfach ab."),
            ("billing", "broken", "plus", "Ich kann meine Rechnungen nicht herunterladen."),
            (
                "support",
                "poor_treatment",
                "any",
                "Der Mitarbeiter am Telefon war ziemlich unfreundlich.",
            ),
        ),
        planted={
            "refund_delay": (
                "Ich habe den {device} vor drei Wochen zurückgeschickt und warte immer noch auf "
                "die Erstattung.",
                "Die Rückerstattung dauert jetzt schon über einen Monat.",
            ),
            "app_logout": (
                "Die App meldet mich ständig ab.",
                "Ich muss mich in der App jeden Tag neu anmelden.",
            ),
            "hidden_fee": (
                "Auf meiner Rechnung steht eine Gebühr, von der vorher nie die Rede war.",
            ),
            "repeat_explain": ("Bei jedem Anruf muss ich mein Problem wieder von vorne erklären.",),
            "late_delivery": ("Die Lieferung kam eine Woche später als angekündigt.",),
            "cancel_hard": ("Das Abo zu kündigen ist viel zu kompliziert.",),
            "setup_confusing": ("Die Anleitung zur Einrichtung ist total verwirrend.",),
            "out_of_stock": ("Der {device} ist seit Wochen ausverkauft.",),
        },
        outcomes=("Sehr enttäuschend.", "Nie wieder.", "So geht das nicht."),
        greetings=("Hallo,", "Guten Tag,", "Sehr geehrte Damen und Herren,"),
        signoffs=("Danke.", "Viele Grüße"),
        titles={
            "complaint": ("Enttäuscht", "Nie wieder"),
            "praise": ("Top", "Sehr gut"),
            "neutral": ("Geht so",),
        },
        followups=("Gibt es schon Neuigkeiten?", "Ich warte immer noch."),
    ),
    "fr": Language(
        praise=(
            ("device", "J'adore mon {device}, il marche parfaitement."),
            ("device", "Installation très simple, tout était prêt en cinq minutes."),
            ("device", "Livraison rapide et colis soigné."),
            ("cam", "Très bonne qualité d'image, même la nuit."),
            ("any", "Le service client a été très réactif, merci."),
        ),
        neutral=(
            ("device", "Est-ce que le {device} fonctionne avec Google Home ?"),
            ("any", "Correct, sans plus."),
            ("plus", "Peut-on payer Nimbus Plus à l'année ?"),
        ),
        complaints=(
            ("usage", "broken", "cam", "La vision nocturne de la caméra est vraiment floue."),
            (
                "delivery",
                "poor_treatment",
                "device",
                "Le livreur a laissé le colis devant la porte sous la pluie.",
            ),
            ("purchase", "broken", "any", "Le paiement a échoué trois fois sur votre site."),
        ),
        planted={
            "refund_delay": (
                "J'ai renvoyé le {device} il y a trois semaines et je n'ai toujours pas été "
                "remboursé.",
                "J'attends mon remboursement depuis plus d'un mois.",
            ),
            "app_logout": (
                "L'application me déconnecte sans arrêt.",
                "Je dois me reconnecter à l'appli tous les jours.",
            ),
            "hidden_fee": ("On m'a facturé des frais qui n'étaient mentionnés nulle part.",),
            "repeat_explain": ("À chaque appel je dois réexpliquer tout mon problème.",),
            "late_delivery": ("Ma commande est arrivée avec une semaine de retard.",),
            "cancel_hard": (
                "Résilier l'abonnement Nimbus Plus est un vrai parcours du combattant.",
            ),
            "setup_confusing": ("Les instructions d'installation sont très confuses.",),
            "out_of_stock": ("Le {device} est en rupture de stock depuis des semaines.",),
        },
        outcomes=("Très déçu.", "Inadmissible.", "Je ne recommande pas."),
        greetings=("Bonjour,", "Bonsoir,"),
        signoffs=("Merci.", "Cordialement"),
        titles={
            "complaint": ("Déçu", "À éviter"),
            "praise": ("Parfait", "Très satisfait"),
            "neutral": ("Moyen",),
        },
        followups=("Des nouvelles ?", "J'attends toujours."),
    ),
    "nl": Language(
        praise=(
            ("device", "Heel tevreden over de {device}, werkt prima."),
            ("device", "De installatie was super makkelijk."),
            ("device", "Snelle levering, netjes verpakt."),
        ),
        neutral=(
            ("device", "Werkt de {device} ook met Google Home?"),
            ("any", "Prima, niets bijzonders."),
        ),
        complaints=(("usage", "broken", "cam", "De camera geeft 's nachts een erg wazig beeld."),),
        planted={
            "refund_delay": (
                "Ik heb de {device} drie weken geleden teruggestuurd "
                "en nog steeds geen geld terug.",
            ),
            "app_logout": ("De app logt me steeds uit.",),
        },
        outcomes=("Erg teleurgesteld.",),
        greetings=("Hallo,", "Goedemiddag,"),
        signoffs=("Groeten", "Bedankt."),
        titles={"complaint": ("Teleurgesteld",), "praise": ("Top",), "neutral": ("Gaat wel",)},
        followups=("Is er al nieuws?",),
    ),
    "pt": Language(
        praise=(
            ("device", "Adoro o {device}, funciona muito bem."),
            ("device", "A instalação foi muito fácil."),
            ("device", "Entrega rápida, chegou antes do previsto."),
        ),
        neutral=(
            ("device", "O {device} funciona com a Alexa?"),
            ("any", "É razoável, nada de especial."),
        ),
        complaints=(("support", "waiting", "any", "Fiquei meia hora à espera ao telefone."),),
        planted={
            "refund_delay": ("Devolvi o {device} há três semanas e ainda não recebi o reembolso.",),
            "app_logout": ("A aplicação está sempre a terminar a minha sessão.",),
        },
        outcomes=("Muito desiludido.",),
        greetings=("Olá,", "Bom dia,"),
        signoffs=("Obrigado.", "Cumprimentos"),
        titles={"complaint": ("Desiludido",), "praise": ("Excelente",), "neutral": ("Razoável",)},
        followups=("Alguma novidade?",),
    ),
}
FOREIGN_WEIGHTS: dict[str, int] = {"es": 35, "de": 25, "fr": 25, "nl": 8, "pt": 7}
FOREIGN_SHARE = 0.03

RANT_SENTENCES: tuple[str, ...] = (
    "I have been a loyal customer for four years and I am writing this because nobody listens.",
    "The Hub drops off the network every single night.",
    "Every morning the lights are in the wrong state and the heating plug is off.",
    "I have reset it, moved it, bought a new router and replaced the power supply.",
    "Each firmware update promises a fix and each one makes it worse.",
    "My partner now refuses to use any of the automations.",
    "I recommended Nimbus to three friends and I am embarrassed about it.",
    "The forum is full of people with exactly the same story.",
    "I don't want a voucher, I want the thing I paid for to work.",
    "Honestly, I am close to throwing the whole lot in the bin.",
)

# What real channels wrap around a complaint (issue 12), so that the demo exercises
# normalisation (nlp/normalize.py): posts aimed at the brand's handles, emoji and hashtags,
# a short greeting or sign-off, mail-client footers, and e-mail replies that quote the agent.
HANDLES: tuple[str, ...] = ("@NimbusHelp", "@nimbus", "@NimbusSupport", "@NimbusHome")
POST_GREETINGS: tuple[str, ...] = ("Hey {handle},", "Hi {handle}", "Hello {handle}!", "Yo {handle}")
POST_EMOJI: dict[str, tuple[str, ...]] = {
    "complaint": ("😡", "🙄", "😤", "👎", "😩", "🤬", "😠😠", "💀"),
    "praise": ("😍", "👍", "🙌", "❤️", "✨", "🔥"),
    "neutral": ("🤔", "🙂", "🙏"),
}
POST_HASHTAGS: dict[str, tuple[str, ...]] = {
    "complaint": ("#fail", "#NimbusFail", "#customerservice", "#notimpressed", "#smarthome"),
    "praise": ("#happycustomer", "#smarthome", "#NimbusHome"),
    "neutral": ("#question", "#smarthome"),
}
POST_SIGNOFFS: tuple[str, ...] = ("Thanks.", "Thanks in advance!", "Cheers, {name}", "Thx!")
MAIL_FOOTERS: tuple[str, ...] = (
    "Sent from my iPhone",
    "Sent from my Galaxy",
    "Get Outlook for Android",
    "Sent from Mail for Windows",
)
SUPPORT_ADDRESS = "Nimbus Support <support@nimbus.example>"
