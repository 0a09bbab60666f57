"""Every code block of README.md and docs/ runs: a page's Python blocks are executed in order in
one namespace (in a fresh folder that holds a small trained ``runs/demo`` for the pages that
load one), and every ``fastebm`` command line of a shell block is parsed by the CLI's own
parser, its job's cross-flag checks included. So the documentation cannot drift from the code."""

from __future__ import annotations

import pathlib
import re
import shlex

import matplotlib
import pytest

from fastebm.cli import build_parser
from fastebm.cli import main as cli_main

matplotlib.use("Agg")

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def blocks(page: pathlib.Path, language: str) -> list[str]:
    return [code for lang, code in BLOCK.findall(page.read_text()) if lang == language]


def page_id(page: pathlib.Path) -> str:
    return str(page.relative_to(ROOT))


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """A folder holding a small trained rbm run at runs/demo (what ``make demo`` writes)."""
    folder = tmp_path_factory.mktemp("docs")
    cli_main(["train", "rbm", "--hidden", "16", "--epochs", "2", "--ais-chains", "20",
              "--ais-betas", "200", "--no-progress", "--out", str(folder / "runs" / "demo")])
    return folder


@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p, "python")], ids=page_id)
def test_python_blocks_run(page, demo_run, monkeypatch, capsys):
    monkeypatch.chdir(demo_run)
    namespace: dict = {"__name__": "__docs__"}
    for code in blocks(page, "python"):
        exec(compile(code, str(page), "exec"), namespace)


def command_lines(code: str) -> list[list[str]]:
    """The fastebm invocations of a shell block (continuation lines joined, comments dropped),
    as the argument lists after ``fastebm`` / ``-m fastebm``."""
    out = []
    for line in code.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        for i, word in enumerate(words):
            if word == "fastebm" and (i == 0 or words[i - 1] == "-m"):
                out.append(words[i + 1:])
                break
    return out


SHELL = [(page, argv) for page in PAGES for code in blocks(page, "bash")
         for argv in command_lines(code)]


@pytest.mark.parametrize("page,argv", SHELL, ids=[f"{page_id(p)}: {' '.join(a)}" for p, a in SHELL])
def test_command_lines_parse(page, argv, capsys):
    parser = build_parser()
    if "--help" in argv or argv == ["--version"]:
        with pytest.raises(SystemExit) as done:
            parser.parse_args(argv)
        assert done.value.code == 0
        return
    args, rest = parser.parse_known_args(argv)
    if args.command == "evaluate":
        return  # its options belong to the run's job, parsed once the run is read
    assert not rest, f"unknown flags {rest}"
    if args.command in ("train", "sample"):
        job = args.job
        flags = job.all_args if args.command == "train" else job.all_sample_args
        job.check({a.dest: getattr(args, a.dest) for a in flags
                   if a.dest not in ("out", "resume", "no_progress")})


def test_every_page_has_been_read():
    assert len(PAGES) > 10 and any(blocks(p, "python") for p in PAGES)
