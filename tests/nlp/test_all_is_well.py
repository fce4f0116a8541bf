"""Sentences that say all is well (nlp.all_is_well): each rule and what turns it around."""

import pytest

from nlp.all_is_well import (
    denies_a_problem,
    only_gives_contact,
    praises_the_ease,
    reports_a_fix,
    says_all_is_well,
)


@pytest.mark.parametrize(
    "text",
    [
        "I had no problem with delivery.",
        "Never had an issue with billing.",
        "Nothing wrong with the app so far",
        "no complaints about the support team",
        "Setup went fine, not a single problem",
        "Honestly zero issues since I switched",
        "We have never been disappointed with their delivery.",
        "You can't go wrong with the basic plan",
        "The new app didn't disappoint",
        "It has never let us down in five years",
        "Order it, you won’t be disappointed!",
        "Three visits and not once has a delivery disappointed",
        "Try the family plan, you won't be sorry",
        "For the price, the plan can't be beat",
        "you cant beat their prices",
        "The pasta cannot be beaten",
        "The photos really don't do it justice",
        "order it, you wont be sorry",
        "never been disapointed by this shop",
        "The app has not dissapointed me once",
        "They swapped the faulty charger without any fuss",
        "It's no-fuss, quick and cheap",
        "Returned it with zero fuss",
        "The plan was worth every penny",
    ],
)
def test_a_sentence_denying_a_problem_is_recognised(text):
    assert denies_a_problem(text)


@pytest.mark.parametrize(
    "text",
    [
        "No problem with delivery, but the box was crushed",
        "never had an issue until this week's update",
        "no one fixed my problem",
        "There is no way to fix this problem",
        "still no refund and the problem is not solved",
        "the problem is that nothing works",
        "I have a problem with my bill",
        "I have never been so disappointed",
        "never been more disappointed in a bank",
        "I can't believe how disappointing the upgrade was",
        "you will not only regret it, you'll pay twice",
        "Never disappointed before, but this update is awful",
        "Cancelled my account, no regrets",
        "Switched banks and never regretted it",
        "You can't go wrong with them unless you need support",
        "Not once did support answer, I'm disappointed",
        "I can't beat this level since the update",
        "Nice photos, but they don't do the sizing chart justice",
        "Really dissapointed, the app never loads",
        "Not once has the app worked im so dissapointed",
        "Not once have they failed to disappoint",
        "But it is never disappointing, even if the fees are over the top",
        "I won't be sorry to leave this bank",
        "The photos don't do the damage justice",
        "It isn't worth every penny they charge",
        "Not worth every penny, it broke in a week",
        "isnt even worth every penny",
        "Premium used to be worth every penny",
        "Is the family plan worth every penny?",
        "I made no fuss about the first two broken units",
        "Never made a fuss in ten years and now you charge me twice",
        "Worth every penny until the strap broke",
        "They made such a fuss about my refund",
        "A never-ending list of problems with this hotel",
    ],
)
def test_a_sentence_with_a_problem_is_not_taken_for_a_denial(text):
    assert not denies_a_problem(text)


@pytest.mark.parametrize(
    "text",
    [
        "Support sorted my issue in one call.",
        "The latest update fixed it, thanks for your work",
        "It worked! Thank you so much",
        "All good now, everything is working now",
        "Logging out and back in solved it.",
        "the issue is resolved, thank you",
        "it's fixed now, cheers",
        "I bought the plugs to cut my energy bill and it actually worked.",
        "Your support staff were able to get the issue resolved.",
        "@SpotifyCares got it sorted, thanks",
    ],
)
def test_a_sentence_reporting_a_fix_is_recognised(text):
    assert reports_a_fix(text)


@pytest.mark.parametrize(
    "text",
    [
        "They fixed it but it broke again",
        "But they fixed it, but it broke again",
        "finally sorted after three weeks",
        "Has it been fixed?",
        "it worked until the update",
        "nobody fixed my problem",
        "I fixed it myself by reinstalling, your app is garbage",
        "It fixed nothing",
        "it worked for a day",
        "It actually worked for a day, then died again",
        "I doubt it actually worked.",
        "I wonder whether it actually worked.",
        "They said it was resolved and closed the ticket",
        "I was told the problem was fixed",
        "the agent solved it only after two hours on hold",
        "a lining might have solved the problem of the itchy fabric",
        "the wifi was fine, the rare times that it worked",
        "I'd like this resolved this week.",
        "please get it sorted asap",
        "I need this fixed before Friday",
        "I've been trying to get it fixed for weeks",
        "I never got it fixed",
        "got it fixed after three calls",
        "Nobody was able to get the issue resolved.",
        "I wasn't able to get it resolved",
    ],
)
def test_a_sentence_with_a_hassle_is_not_taken_for_a_fix(text):
    assert not reports_a_fix(text)


@pytest.mark.parametrize(
    "text",
    [
        "Returning the extra plug was easy and the money was back within two days.",
        "Closing my account was quick and they even helped me wipe the Hub.",
        "When I moved abroad, stopping the subscription took two clicks.",
        "The exchange was painless and the new one arrived Friday",
        "Check in was super quick and friendly",
        "Refund was quick.",
    ],
)
def test_a_process_praised_as_easy_is_recognised(text):
    assert praises_the_ease(text)
    assert says_all_is_well(text)


@pytest.mark.parametrize(
    "text",
    [
        "It was easy to break the hinge.",  # what follows turns it
        "The agent was quick to blame me",
        "The song was fast forwarding by itself",
        "It used to be so easy.",  # a past that no longer holds
        "Nothing about the return was easy",
        "They said the refund would be quick",
        "Cancelling should be simple, it isn't",
        "Setup was easy but the app crashes every night",
        "Was the return easy for you?",
        "This is very urgent and should be fast-tracked",
        "The only thing that was easy was paying",
        "Neither the app is quick nor the site",
        # A second clause after it may say what went wrong.
        "Delivery was quick, shame the item arrived broken.",
        "Ordering was easy, cancelling is impossible.",
        "Sign up took two clicks, cancelling took 45 minutes on hold.",
        "The call was quick because they hung up on me.",
        "The question is simple: where is my refund.",
        "They were quick with the charges, slow with the refund.",
        "My battery drain is really fast since the update.",  # "fast" is no praise
        "I just want cancelling to be simple.",
        "I expect the refund to be quick.",
        "I was told it was easy.",
        "Cancelling a subscription ought to be easy.",
    ],
)
def test_a_process_not_praised_as_easy_is_not_taken_for_praise(text):
    assert not praises_the_ease(text)


@pytest.mark.parametrize(
    "text",
    [
        "Contact me at jane.doe8@example.com or +44 7700 900008.",
        "Please call me back on 07700 900123",
        "Call me on 555-1234, thanks!",
        "My email is jane@example.com",
        "Email me at [email]",
    ],
)
def test_a_sentence_that_only_gives_contact_details_is_no_complaint(text):
    assert only_gives_contact(text) and says_all_is_well(text)


@pytest.mark.parametrize(
    "text",
    [
        "Call me, the app is broken",
        "Contact me at x@y.com, I want a refund",
        "Why can nobody call me back?",
        "Call me back!",
        "call me on 555 1234 the app is broken",
    ],
)
def test_a_complaint_that_asks_for_a_call_is_still_one(text):
    assert not only_gives_contact(text)
