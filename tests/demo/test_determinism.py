"""Same seed, same frames and files; another seed, other data."""

from __future__ import annotations

import hashlib

from sanhua.demo import DemoSettings, generate_portfolio, write_demo

from .conftest import SMALL


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_seed_same_frames(small):
    again = generate_portfolio(SMALL)
    for book, tables in (("history", small.history), ("tape", small.tape)):
        other = getattr(again, book)
        assert tables.keys() == other.keys()
        for name, frame in tables.items():
            assert frame.equals(other[name]), f"{book}.{name} differs between two runs with the same seed"
    assert small.latent.equals(again.latent)


def test_same_seed_same_files(tmp_path):
    first = write_demo(tmp_path / "a", SMALL)
    second = write_demo(tmp_path / "b", SMALL)
    files_a = first.history_files + first.tape_files + [first.latent]
    files_b = second.history_files + second.tape_files + [second.latent]
    assert [p.name for p in files_a] == [p.name for p in files_b]
    for a, b in zip(files_a, files_b, strict=True):
        assert _digest(a) == _digest(b), f"{a.name} is not byte-identical"


def test_other_seed_other_data(small):
    other = generate_portfolio(SMALL.model_copy(update={"seed": SMALL.seed + 1}))
    assert not small.history["loans"].equals(other.history["loans"])
    assert not small.history["borrowers"]["id_number"].equals(other.history["borrowers"]["id_number"])
    assert not small.tape["collection_events"].equals(other.tape["collection_events"])


def test_sizes_follow_settings(small):
    assert small.history["loans"].height == SMALL.n_history_loans
    assert small.tape["loans"].height == SMALL.n_tape_loans
    assert small.latent.height == SMALL.n_history_loans + SMALL.n_tape_loans


def test_default_sizes(demo):
    settings = DemoSettings()
    assert demo.history["loans"].height == settings.n_history_loans
    assert demo.tape["loans"].height == settings.n_tape_loans
