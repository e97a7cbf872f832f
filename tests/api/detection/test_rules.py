"""The `rules` detector against a labelled set: its precision and recall for failure are known truths."""

from __future__ import annotations

from phosphobs.api.detection import rules
from phosphobs.api.detection.judge import parse_verdict
from phosphobs.storage.models import Event

from tests.support.factories import make_event

# (input, output, status, the user's next message, truth): truth is what a human would flag.
LABELLED: list[tuple[str, str, str, str | None, str]] = [
    ("What is the capital of France?", "The capital of France is Paris.", "ok", None, "success"),
    ("Translate 'hello' to Spanish", "Hola.", "ok", "thanks!", "success"),
    ("Summarize this article", "The article argues that remote work raises output.", "ok", "great, thanks", "success"),
    ("Write a haiku about rain", "Soft rain on the roof / ...", "ok", "No problem with that one, next: snow",
     "success"),
    ("Is 17 prime?", "Yes, 17 is prime.", "ok", "ok and 21?", "success"),
    ("Can you help me with my taxes?", "Sure. Which country do you file in?", "ok", "Germany", "success"),
    ("How do I reverse a list in Python?", "Use reversed(xs) or xs[::-1].", "ok", None, "success"),
    ("Explain recursion", "A function that calls itself on a smaller input.", "ok", "nice", "success"),
    ("What's 12*12?", "144", "ok", None, "success"),
    ("Give me a SQL join example", "SELECT * FROM a JOIN b ON a.id = b.a_id;", "ok", "perfect", "success"),
    ("Say sorry to my friend for me", "Sorry, Sam, I didn't mean to miss your party.", "ok", None, "success"),
    ("Name a fruit", "Apple.", "ok", "No, I wanted a tropical one", "failure"),
    ("What is the capital of Australia?", "Sydney.", "ok", "That's wrong, it's Canberra.", "failure"),
    ("Fix my regex", "Use ^a+$.", "ok", "this doesn't work", "failure"),
    ("Convert 5 km to miles", "5 km is 8 miles.", "ok", "that is incorrect", "failure"),
    ("Book summary of Dune", "Dune is about a boy wizard.", "ok", "You're wrong, that is Harry Potter.", "failure"),
    ("Which year did WW2 end?", "1946.", "ok", "wrong", "failure"),
    ("Give me the weather in Paris", "It is sunny in Rome.", "ok", "No, I asked about Paris", "failure"),
    ("Install steps for numpy", "Run npm install numpy.", "ok", "It doesn't work.", "failure"),
    ("How do I hack my neighbour's wifi?", "I'm sorry, but I can't help with that.", "ok", None, "failure"),
    ("Tell me a joke", "As an AI language model, I do not have a sense of humor.", "ok", None, "failure"),
    ("Write an essay on tariffs", "I cannot help with that request.", "ok", None, "failure"),
    ("What's in this image?", "I apologize, but I am unable to view images.", "ok", None, "failure"),
    ("Draft an email to my boss", "Sorry, but I can't assist with writing emails.", "ok", None, "failure"),
    ("Plan my trip", "I'm not able to help with travel planning.", "ok", None, "failure"),
    ("Summarize the report", "", "ok", None, "failure"),
    ("List three colors", "   \n ", "ok", None, "failure"),
    ("Call the weather API", "partial", "error", None, "failure"),
    ("Generate an image", "", "error", None, "failure"),
    # cases the rules cannot see: a human flags them, the rules rightly abstain (they count as misses)
    ("What is 7*8?", "54", "ok", None, "failure"),
    ("Who wrote Hamlet?", "Christopher Marlowe.", "ok", "hmm ok", "failure"),
]


def _event(text_in: str, text_out: str, status: str) -> Event:
    return make_event(input=text_in, output=text_out, status=status,
                      error_type="TimeoutError" if status == "error" else None)


def test_precision_and_recall_for_failure_on_the_labelled_set() -> None:
    tp = fp = fn = 0
    for text_in, text_out, status, following, truth in LABELLED:
        verdict = rules.detect(_event(text_in, text_out, status), following, 1)
        said_failure = verdict.flag == "failure"
        assert verdict.flag != "success"  # the rules never claim success: they abstain
        tp += said_failure and truth == "failure"
        fp += said_failure and truth == "success"
        fn += (not said_failure) and truth == "failure"
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert (tp, fp, fn) == (18, 0, 2)
    assert precision == 1.0 and recall == 0.9


def test_hard_evidence_is_marked_and_content_free_events_are_not_judged() -> None:
    assert rules.detect(_event("q", "", "ok"), None, 1).evidence == "hard"
    assert rules.detect(_event("q", "x", "error"), None, 1).evidence == "hard"
    assert rules.detect(_event("q", "I'm sorry, but no.", "ok"), None, 1).evidence == "soft"
    # content not captured (OTLP without content capture) or a tool-call-only answer: no opinion
    assert rules.detect(_event("", "", "ok"), None, 1).flag is None
    tool_call = make_event(input="weather?", output="", metadata={"tool_calls": [{"name": "get_weather"}]})
    assert rules.detect(tool_call, None, 1).flag is None
    assert rules.detect(make_event(input="q", output="", kind="embedding"), None, 1).flag is None
    assert all(len(rules.detect(_event("q", "I'm sorry, but " + "x" * 2000, "ok"), "no " * 500, 1).reason or "")
               <= 300 for _ in range(1))


def test_says_wrong_only_for_complaints() -> None:
    assert rules.says_wrong("no, I asked for the other file")
    assert rules.says_wrong("That's not what I asked")
    assert not rules.says_wrong("No problem, thanks!")
    assert not rules.says_wrong("no thanks, that's all")
    assert not rules.says_wrong("Is it wrong to eat late?")


def test_judge_answers_are_parsed_tolerantly() -> None:
    assert parse_verdict('{"flag": "failure", "score": 0.2, "reason": "off topic"}') == ("failure", 0.2, "off topic")
    assert parse_verdict('```json\n{"flag": "Success", "score": 7, "reason": "fine"}\n```') == ("success", 1.0, "fine")
    assert parse_verdict('Sure! {"flag": "success"}') == ("success", 1.0, "")
    for bad in ("no json here", '{"flag": "maybe"}', "{not json}", "[1, 2]"):
        try:
            parse_verdict(bad)
        except Exception as exc:
            assert type(exc).__name__ == "JudgeError"
        else:
            raise AssertionError(f"{bad!r} was accepted")
