"""The LLM commands end to end against loopback stub servers: outputs, resume, and one-message failures."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from skillit.cli import app
from skillit.skills.io import load_skills
from tests.llm.stub_server import StubServer, first_then, free_port, replies, status
from tests.llm.test_skillmix import rule_grader, rule_student

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert text.count("error:") == 1 and "Traceback" not in text  # (a progress bar may precede it)
    return text[text.index("error:"):]


@pytest.fixture
def skill_files(tmp_path):
    skills = tmp_path / "skills.jsonl"
    skills.write_text("".join(json.dumps({"skill": s, "definition": f"definition of {s}"}) + "\n"
                              for s in ("metaphor", "red herring", "modus ponens", "irony")))
    topics = tmp_path / "topics.json"
    topics.write_text(json.dumps(["Knots", "Sewing"]))
    return skills, topics


def serve(function):
    """A stub whose replies come from a Skill-Mix rule model (the messages are the request's)."""
    return replies(lambda body: function(body["messages"]))


def backend_args(server, retries=0):
    return ["--base-url", server.url, "--model", "stub", "--retries", retries, "--concurrency", 1]


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_skillmix_generate_resumes_after_a_failure_and_grades(tmp_path, skill_files):
    skills, topics = skill_files
    out = tmp_path / "gen.jsonl"
    with StubServer(first_then(serve(rule_student), 5, status(500, "overloaded"))) as server:
        args = ["skillmix", "generate", "--skills", skills, "--topics", topics, "--k", 2, "--n", 4, "--out", out,
                *backend_args(server)]
        text = one_line_error(invoke(*args))
        assert "gave no usable answer" in text and "HTTP 500: overloaded" in text
        kept = lines(out)  # two combinations × two turns fit in the first 5 requests
        assert [r["id"] for r in kept] == ["k2-s0-0", "k2-s0-1"] and out.read_text().endswith("\n")
        server.behaviour = serve(rule_student)
        result = invoke(*args)
        assert result.exit_code == 0, result.output
        assert "resuming" in result.output and "2 of 4" in result.output
        # 5 + 1 failed, then combination 3's second turn + combination 4's two turns (its first turn was cached)
        assert len(server.requests) == 6 + 3
    records = lines(out)
    assert [r["id"] for r in records] == [f"k2-s0-{i}" for i in range(4)]
    assert all(r["generations"][0]["text"].endswith("thief of time.") for r in records)

    graded = tmp_path / "graded.jsonl"
    with StubServer(serve(rule_grader)) as grader:
        result = invoke("skillmix", "grade", out, "--skills", skills, "--out", graded, "--grading-rounds", 3,
                        *backend_args(grader))
    assert result.exit_code == 0, result.output
    assert "ratio of full marks" in " ".join(result.output.split())
    result = invoke("skillmix", "metrics", graded, "--json")
    summary = json.loads(result.output)["k=2"]
    with_herring = sum("red herring" in r["skills"] for r in records)
    assert summary["full_marks"]["mean"] == pytest.approx(1 - with_herring / 4)


def test_skillmix_grade_malformed_output_writes_nothing(tmp_path, skill_files):
    skills, _ = skill_files
    generations = tmp_path / "gen.jsonl"
    generations.write_text(json.dumps({"id": "a", "k": 2, "skills": ["metaphor", "irony"], "topic": "Knots",
                                       "generations": [{"text": "Knots. Rope."}]}) + "\n")
    graded = tmp_path / "graded.jsonl"
    with StubServer(replies(lambda body: "A lovely text, I'd give it full marks.")) as server:
        text = one_line_error(invoke("skillmix", "grade", generations, "--skills", skills, "--out", graded,
                                     *backend_args(server)))
    assert "combination 'a'" in text and "readable points" in text
    assert not graded.exists()


def test_skillmix_unknown_skill_is_one_message(tmp_path, skill_files):
    skills, _ = skill_files
    generations = tmp_path / "gen.jsonl"
    generations.write_text(json.dumps({"id": "a", "k": 2, "skills": ["metaphor", "ironny"], "topic": "Knots",
                                       "generations": [{"text": "x"}]}) + "\n")
    text = one_line_error(invoke("skillmix", "grade", generations, "--skills", skills, "--out", tmp_path / "g.jsonl",
                                 "--base-url", "http://127.0.0.1:9/v1", "--model", "m"))
    assert "unknown skill 'ironny'" in text and "did you mean 'irony'" in text
    assert not (tmp_path / "g.jsonl").exists()


def test_unreachable_server_and_wrong_key_write_nothing(tmp_path, skill_files):
    skills, topics = skill_files
    out = tmp_path / "gen.jsonl"
    base = ["skillmix", "generate", "--skills", skills, "--topics", topics, "--n", 2, "--out", out, "--model", "m",
            "--retries", 0]
    text = one_line_error(invoke(*base, "--base-url", f"http://127.0.0.1:{free_port()}/v1"))
    assert "cannot reach" in text and "is the server running" in text
    with StubServer(status(401, '{"error": "Incorrect API key"}')) as server:
        text = one_line_error(invoke(*base, "--base-url", server.url))
    assert "rejected the API key" in text and "SKILLIT_LLM_API_KEY" in text
    assert not out.exists()


def synth_generator(body):
    messages = body["messages"]
    skills = re.findall(r"^- ([^:\n]+)", messages[0]["content"], flags=re.MULTILINE)
    if len(messages) == 3:  # the critique turn
        return "Strength: specific. Weakness: could be shorter."
    return (f"### Instruction:\nWrite a note using {' and '.join(skills)}.\n\n### Response:\n"
            f"A note ({len(messages)} messages seen).")


def test_synth_writes_a_skillit_data_set(tmp_path, skill_files):
    skills, _ = skill_files
    queries = tmp_path / "queries.txt"
    queries.write_text("Information-Seeking: the user wants facts\nCreative Writing: a story or a poem\n")
    out = tmp_path / "data.jsonl"
    with StubServer(replies(synth_generator)) as server:
        result = invoke("synth", "--skills", skills, "--query-types", queries, "--k", 2, "--n", 6, "--out", out,
                        *backend_args(server))
    assert result.exit_code == 0, result.output
    records = lines(out)
    assert len(records) == 6 and len(server.requests) == 18  # draft, critique, refined pair per example
    first = records[0]
    assert first["skill"] == " + ".join(first["skills"]) and first["output"] == "A note (5 messages seen)."
    assert first["instruction"] == f"Write a note using {' and '.join(first['skills'])}."
    assert first["prompt"].startswith("### Instruction:\n") and first["answer"] == first["output"]
    skillset = load_skills(out)
    assert sum(skillset[name].train.size for name in skillset.train_names) == 6


def test_synth_malformed_generator_reply(tmp_path, skill_files):
    skills, _ = skill_files
    queries = tmp_path / "q.txt"
    queries.write_text("Advice\n")
    with StubServer(replies(lambda body: "Sure! Here is something.")) as server:
        text = one_line_error(invoke("synth", "--skills", skills, "--query-types", queries, "--n", 2, "--out",
                                     tmp_path / "d.jsonl", *backend_args(server)))
    assert "item 'ism-k2-s0-0'" in text and "### Instruction:" in text
    assert not (tmp_path / "d.jsonl").exists()


def stat_teacher(body):
    content = body["messages"][0]["content"]
    question = content.split("Question:\n")[1].split("\n")[0]
    if "ok" in question:
        return "<judge>correct</judge><reason>fine</reason><skill></skill>"
    named = {"mul": "Multiplication ", "add": "ADDITION; Long Division"}[question.split()[0]]
    return f"<judge>incorrect</judge>\n<reason>wrong step</reason>\n<skill>{named}</skill>"


def test_stat_profile_and_select(tmp_path):
    skills = tmp_path / "skills.txt"
    skills.write_text("addition\nmultiplication\nsubtraction\n")
    failures = tmp_path / "failures.jsonl"
    failures.write_text("".join(json.dumps({"id": i, "question": q, "response": "9"}) + "\n"
                                for i, q in enumerate(["mul 3 4", "mul 2 5", "add 1 1", "ok 2 2"])))
    diagnoses, profile = tmp_path / "diag.jsonl", tmp_path / "profile.json"
    with StubServer(replies(stat_teacher)) as server:
        result = invoke("stat", "profile", failures, "--skills", skills, "--out", diagnoses, "--profile", profile,
                        *backend_args(server))
    assert result.exit_code == 0, result.output
    assert "Long Division" in result.output  # reported as unmatched, not counted
    data = json.loads(profile.read_text())
    assert data["counts"] == {"addition": 1, "multiplication": 2, "subtraction": 0}
    assert [r["skills"] for r in lines(diagnoses)] == [["multiplication"], ["multiplication"], ["addition"], []]

    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps({"skill": s, "prompt": f"{s}{i}", "answer": "x"}) + "\n"
                             for s in ("addition", "multiplication", "subtraction") for i in range(10)))
    selected = tmp_path / "selected.jsonl"
    result = invoke("stat", "select", "--profile", profile, "--data", train, "--out", selected, "--per-pair", 5)
    assert result.exit_code == 0, result.output
    chosen = [r["skill"] for r in lines(selected)]
    assert chosen.count("multiplication") == 10 and chosen.count("addition") == 5 and len(chosen) == 15

    train.write_text(json.dumps({"skill": "addition", "prompt": "a", "answer": "b"}) + "\n")
    text = one_line_error(invoke("stat", "select", "--profile", profile, "--data", train, "--out", tmp_path / "s2.jsonl"))
    assert "'multiplication' has no training examples" in text and not (tmp_path / "s2.jsonl").exists()


def test_stat_profile_malformed_teacher(tmp_path):
    skills = tmp_path / "skills.txt"
    skills.write_text("addition\n")
    failures = tmp_path / "failures.jsonl"
    failures.write_text(json.dumps({"id": "q1", "question": "1+1", "response": "3"}) + "\n")
    with StubServer(replies(lambda body: "The student is wrong.")) as server:
        text = one_line_error(invoke("stat", "profile", failures, "--skills", skills, "--out", tmp_path / "d.jsonl",
                                     "--profile", tmp_path / "p.json", *backend_args(server)))
    assert "question 'q1'" in text and "<judge>" in text
    assert not (tmp_path / "d.jsonl").exists() and not (tmp_path / "p.json").exists()
