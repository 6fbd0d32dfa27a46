#!/usr/bin/env python3
"""Goldens for AttendDistributed's DistributedSampler: torch.utils.data.DistributedSampler's indices
for every rank over several (dataset size, world size, drop_last, shuffle, seed, epoch).

    venv/bin/python scripts/goldens/generate_sampler.py
"""
import json
import pathlib

from torch.utils.data import DistributedSampler

OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/AttendTests/Goldens/sampler.json"
cases = []
for count, world, drop_last, shuffle, seed, epoch in [
        (10, 2, False, True, 0, 0), (10, 3, False, True, 7, 1), (10, 3, True, True, 7, 1), (10, 3, False, False, 0, 0),
        (10, 3, True, False, 0, 0), (2, 3, False, True, 1, 0), (1000, 3, False, True, 42, 5), (17, 4, True, True, 3, 2),
        (5, 8, False, False, 0, 0), (100, 1, False, True, 123, 9)]:
    per_rank = []
    for rank in range(world):
        sampler = DistributedSampler(list(range(count)), num_replicas=world, rank=rank, shuffle=shuffle, seed=seed,
                                     drop_last=drop_last)
        sampler.set_epoch(epoch)
        per_rank.append(list(sampler))
    cases.append({"count": count, "world": world, "drop_last": drop_last, "shuffle": shuffle, "seed": seed,
                  "epoch": epoch, "indices": per_rank})
OUT.write_text(json.dumps({"generator": "scripts/goldens/generate_sampler.py", "cases": cases}))
print(f"wrote {len(cases)} cases to {OUT}")
