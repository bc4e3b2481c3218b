"""Splits: hashed sides, groups that never cross, predefined marks, the test side kept apart."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from any2img.data import ImageItems, Item, items_from_arrays, items_from_folder, split_items
from any2img.errors import InputError, ParameterError


def _items(n: int, *, groups: int | None = None, classes: int = 2) -> ImageItems:
    return ImageItems(
        Item(image=f"/x/{i}.png", label=str(i % classes), group=None if groups is None else f"g{i % groups}",
             key=f"{i % classes}/{i}.png")
        for i in range(n)
    )


def _keys(side: ImageItems) -> set[str]:
    return {i.key for i in side}


def test_random_split_is_seeded_and_partitions():
    items = _items(200)
    a = split_items(items, valid_pct=0.25, seed=3)
    b = split_items(items, valid_pct=0.25, seed=3)
    c = split_items(items, valid_pct=0.25, seed=4)
    assert a.info["strategy"] == "random"
    assert _keys(a.valid) == _keys(b.valid) and _keys(a.valid) != _keys(c.valid)
    assert _keys(a.train) | _keys(a.valid) == _keys(items) and not _keys(a.train) & _keys(a.valid)
    assert len(a.valid) == 50  # a quarter of 200, stratified: 25 per class
    assert sorted(a.valid.labels).count("0") == 25
    assert len(a.test) == 0 and a.classes == ["0", "1"]
    assert a.info["counts"] == {"train": len(a.train), "valid": len(a.valid), "test": 0}


def test_random_split_stable_when_files_of_another_class_are_added():
    # Stratified by hash rank within each class: items of a new class never move the others; within a
    # class, growing it moves at most the items at the edge of its share.
    small = split_items(_items(100), valid_pct=0.2, seed=42)
    extra = [Item(image=np.zeros((2, 2), np.uint8), label="new", key=f"new/{i}.png") for i in range(50)]
    big = split_items(ImageItems([*_items(100), *extra]), valid_pct=0.2, seed=42)
    old = _keys(_items(100))
    assert _keys(big.valid) & old == _keys(small.valid)
    assert _keys(big.train) & old == _keys(small.train)
    assert len(small.valid) == 20 and sorted(small.valid.labels).count("0") == 10  # exact and stratified
    grown = split_items(_items(150), valid_pct=0.2, seed=42)
    assert len(_keys(grown.valid) & _keys(small.valid)) >= 15
    # and independent of the order the items come in
    shuffled = split_items(ImageItems(reversed(list(_items(100)))), valid_pct=0.2, seed=42)
    assert _keys(shuffled.valid) == _keys(small.valid)


def test_grouped_split_keeps_groups_on_one_side():
    items = _items(120, groups=12)
    s = split_items(items, valid_pct=0.3, seed=0)
    assert s.info["strategy"] == "group"  # auto: groups shared by several items
    train_groups = {i.group for i in s.train}
    valid_groups = {i.group for i in s.valid}
    assert train_groups and valid_groups and not train_groups & valid_groups
    assert s.info["groups"]["train"] + s.info["groups"]["valid"] == 12
    # a test share is grouped too
    s = split_items(items, valid_pct=0.2, seed=0, test=0.25)
    sides = [{i.group for i in side} for side in (s.train, s.valid, s.test)]
    assert all(sides) and not (sides[0] & sides[1] or sides[0] & sides[2] or sides[1] & sides[2])


def test_tiny_dataset_still_gets_a_validation_item():
    s = split_items(_items(3), valid_pct=0.01, seed=0)
    assert len(s.valid) == 1 and len(s.train) == 2
    s = split_items(_items(4), valid_pct=0.0, seed=0)
    assert len(s.valid) == 0 and len(s.train) == 4


def test_auto_chooses_random_when_groups_are_unique():
    s = split_items(_items(20, groups=20), seed=1)
    assert s.info["strategy"] == "random"


def _marked(tmp_path):
    for split, n in (("train", 10), ("test", 4)):
        for i in range(n):
            path = tmp_path / split / f"c{i % 2}" / f"{i}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.full((4, 4, 3), i, np.uint8)).save(path)
    return items_from_folder(tmp_path)


def test_predefined_split_from_folders(tmp_path):
    items = _marked(tmp_path)
    s = split_items(items, valid_pct=0.3, seed=0)
    assert s.info["strategy"] == "predefined"
    assert {i.split for i in s.test} == {"test"} and len(s.test) == 4
    assert {i.split for i in s.train} | {i.split for i in s.valid} == {"train"}  # valid carved from train
    assert len(s.train) + len(s.valid) == 10 and len(s.valid) >= 1
    # test=None leaves marked test items out entirely
    s = split_items(items, valid_pct=0.3, seed=0, test=None)
    assert len(s.test) == 0 and len(s.train) + len(s.valid) == 10 and s.info["dropped_test"] == 4


def test_predefined_valid_marks_are_used():
    imgs = np.arange(6, dtype=np.uint8)[:, None, None] * np.ones((6, 2, 2), np.uint8)
    items = items_from_arrays(imgs, [0, 1, 0, 1, 0, 1], splits=["train", "train", "valid", "valid", "test", None])
    s = split_items(items, by="predefined")
    assert [i.split for i in s.valid] == ["valid", "valid"]
    assert [i.split for i in s.train] == ["train", "train", None]
    assert s.info["valid_from"] == "predefined"


def test_errors():
    with pytest.raises(ParameterError, match="'by' is 'predefined' but no item"):
        split_items(_items(10), by="predefined")
    with pytest.raises(ParameterError, match="'valid_pct' must be a finite number in \\[0.0, 1.0\\)"):
        split_items(_items(10), valid_pct=1.0)
    with pytest.raises(ParameterError, match="'by' must be one of"):
        split_items(_items(10), by="speaker")
    with pytest.raises(ParameterError, match="'test' must be"):
        split_items(_items(10), test=1.5)
    unlabelled = ImageItems([Item(image="a.png", key="a.png"), Item(image="b.png", label="x", key="b.png")])
    with pytest.raises(InputError, match="a.png: the image has no label"):
        split_items(unlabelled)
    with pytest.raises(InputError, match="no items"):
        split_items(ImageItems([]))


def test_grouped_split_is_stratified_and_keeps_every_class_on_both_sides():
    from any2img.data import Item

    items = [Item(image=np.zeros((2, 2), np.uint8), label=f"user{u}", group=f"user{u}/session{s}",
                  key=f"user{u}/session{s}/w{w}")
             for u in range(10) for s in range(5) for w in range(3)]  # 10 users, 5 sessions each
    for seed in range(5):
        split = split_items(ImageItems(items), valid_pct=0.2, seed=seed, by="group")
        assert set(split.valid.labels) == set(split.train.labels) == {f"user{u}" for u in range(10)}
        assert split.info["groups"]["valid"] == 10  # 20 % of 50 sessions, one per user
        assert not {i.group for i in split.train} & {i.group for i in split.valid}
        assert "missing_classes" not in split.info


def test_random_split_is_stratified_where_the_share_allows_and_warns_otherwise():
    import warnings as w

    from any2img.data import MissingClassWarning

    imgs = np.arange(40, dtype=np.uint8)[:, None, None] * np.ones((40, 2, 2), np.uint8)
    labels = [str(i // 2) for i in range(40)]  # 20 classes of 2 items: a 20 % share covers 8 of them
    with w.catch_warnings(record=True) as caught:
        w.simplefilter("always")
        split = split_items(items_from_arrays(imgs, labels), valid_pct=0.2, seed=3)
    n_valid = len(split.valid)
    assert n_valid >= 8 and len(set(split.valid.labels)) == n_valid  # the share, at most one per class
    assert set(split.train.labels) == set(labels)  # no class loses its last item to validation
    lacking = split.info["missing_classes"]["valid"]
    assert len(lacking) == 20 - n_valid
    msg = [str(c.message) for c in caught if c.category is MissingClassWarning]
    assert msg and f"valid lacks {20 - n_valid} of 20 classes" in msg[0]


def _takes(speakers: int = 3, digits: int = 2, takes: int = 10, windows: int = 1) -> list[Item]:
    """FSDD-like items: every speaker says every digit ``takes`` times; a take may give several windows."""
    return [Item(image=f"/x/{d}_{s}_{t}_{w}.png", label=str(d), group=f"spk{s}", source=f"{d}_{s}_{t}.wav",
                 window={"index": w}, split="test" if t < 2 else "train", key=f"{d}_{s}_{t}_{w}.png")
            for s in range(speakers) for d in range(digits) for t in range(takes) for w in range(windows)]


def test_validation_mirrors_a_test_side_of_new_takes_of_known_speakers():
    # every test speaker also has training takes: validation holds out recordings, not speakers
    s = split_items(ImageItems(_takes(windows=2)), valid_pct=0.25, seed=3)
    assert s.info["strategy"] == "predefined"
    assert s.info["valid_by"].startswith("recording")
    assert {i.group for i in s.valid} == {i.group for i in s.train} == {"spk0", "spk1", "spk2"}
    recordings = [{i.source for i in side} for side in (s.train, s.valid)]
    assert recordings[0] and recordings[1] and not recordings[0] & recordings[1]  # windows stay together
    assert len(s.valid) == 2 * 12  # a quarter of the 48 training recordings, two windows each
    assert all(i.split == "test" for i in s.test) and len(s.test) == 24


def test_validation_holds_out_speakers_when_the_test_speakers_are_unseen():
    items = [i for i in _takes(speakers=4) if (i.group == "spk3") == (i.split == "test")]  # leave one out
    s = split_items(ImageItems(items), valid_pct=0.34, seed=3)
    assert "valid_by" not in s.info
    train_groups, valid_groups = {i.group for i in s.train}, {i.group for i in s.valid}
    assert valid_groups and not train_groups & valid_groups
    assert {i.group for i in s.test} == {"spk3"}


def test_validation_by_group_when_asked_or_when_a_test_speaker_is_new():
    items = _takes()
    s = split_items(ImageItems(items), valid_pct=0.34, seed=3, by="group")  # marks ignored: grouped as asked
    assert "valid_by" not in s.info
    extra = [Item(image="/x/new.png", label="0", group="spk9", source="new.wav", split="test", key="new.png")]
    s = split_items(ImageItems(items + extra), valid_pct=0.34, seed=3)  # one test speaker unseen
    assert "valid_by" not in s.info and not {i.group for i in s.train} & {i.group for i in s.valid}
