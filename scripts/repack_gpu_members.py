"""One-off: repack the two SEM members trained on the lent H200 into the shipped int8 format.

The device run (`hef train-sem` on CUDA, see docs/results.md) saved each member as a sentence-transformers
fp16 folder plus head.safetensors; this loads them, calibrates the ensemble on ED valid and saves it.

Run: PYTHONPATH=. python scripts/repack_gpu_members.py hef_graph/resources/sem
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from safetensors.torch import load_file

from hef_graph.labels import EMOTIONS
from hef_graph.sem.data import default_data_dir, load_samples
from hef_graph.sem.model import EmotionClassifier, EncoderMember, load_base_encoder
from hef_graph.sem.train import calibrate

MEMBERS = ["runs/gpu/model/member_0", "runs/gpu/m2/model/member_1"]


def main() -> None:
    """Load, calibrate and save."""
    members = []
    for folder in map(Path, MEMBERS):
        member = EncoderMember(load_base_encoder(folder, "cpu"), len(EMOTIONS))
        member.head.load_state_dict(load_file(folder / "head.safetensors"))
        members.append(member.float().eval())
    classifier = EmotionClassifier(members)
    training = json.loads(Path("runs/gpu/m2/model/sem_config.json").read_text())["training"]
    report = calibrate(classifier, load_samples(default_data_dir(), "valid"))
    note = "member_0 trained with --epochs 5 --members 1, then member_1 with --epochs 4 --members 2 (resume)"
    classifier.save_pretrained(sys.argv[1], extra={
        "training": training | {"note": note}, "calibration": report,
        "data_licence": "Trained on EmpatheticDialogues (CC BY-NC 4.0): non-commercial use only.",
    })  # fmt: skip


if __name__ == "__main__":
    main()
