"""The machine fingerprint a run directory's manifest records, and how two fingerprints differ."""

from __future__ import annotations

import json
import platform

import torch

from skillit.utils import machine
from skillit.utils.machine import FIELDS, cpu_model, describe_machine, machine_difference, machine_fingerprint

CPUINFO = """\
processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R)  Xeon(R) Platinum 8481C CPU @ 2.70GHz
flags\t\t: fpu vme avx2 avx512f

processor\t: 1
model name\t: another model, never read
"""


def test_cpu_model_is_the_first_model_name_with_its_spaces_collapsed():
    assert cpu_model(CPUINFO) == "Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz"
    assert cpu_model("processor\t: 0\nmodel name\t:   \n") is None  # an empty value names nothing
    assert cpu_model("") is None


def test_fingerprint_names_this_process_and_is_json():
    found = machine_fingerprint()
    assert tuple(found) == FIELDS
    assert found["torch"] == torch.__version__ and found["cuda"] == torch.version.cuda
    assert found["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert found["python"] == platform.python_version()
    assert json.loads(json.dumps(found)) == found


def test_fingerprint_without_proc_cpuinfo_falls_back_to_platform(tmp_path, monkeypatch):
    monkeypatch.setattr(machine, "CPUINFO", tmp_path / "absent")
    assert machine_fingerprint()["cpu"] == (platform.processor() or platform.machine() or "unknown")
    (tmp_path / "cpuinfo").write_text(CPUINFO)
    monkeypatch.setattr(machine, "CPUINFO", tmp_path / "cpuinfo")
    assert machine_fingerprint()["cpu"].startswith("Intel(R) Xeon(R) Platinum 8481C")


def test_difference_names_each_differing_field_in_order():
    a = {"cpu": "X", "cpu_capability": "AVX512", "logical_cpus": 2, "torch": "2.13.0+cpu"}
    b = {**a, "cpu_capability": "AVX2", "logical_cpus": 16, "extra": "new"}
    assert machine_difference(a, b) == "cpu_capability: AVX512 / AVX2; logical_cpus: 2 / 16; extra: None / new"
    assert machine_difference(a, dict(a)) is None
    assert machine_difference(a, None) is None and machine_difference({}, a) is None  # not recorded: unknown


def test_describe_names_the_cuda_build_only_when_there_is_one():
    cpu = {"cpu": "Xeon", "cpu_capability": "AVX2", "logical_cpus": 16, "torch": "2.13.0+cpu", "cuda": None,
           "python": "3.11.9", "os": "Linux x86_64"}
    assert describe_machine(cpu) == "Xeon (AVX2, 16 logical CPUs), torch 2.13.0+cpu, Python 3.11.9, Linux x86_64"
    assert describe_machine({**cpu, "torch": "2.13.0+cu124", "cuda": "12.4"}) == (
        "Xeon (AVX2, 16 logical CPUs), torch 2.13.0+cu124, CUDA 12.4, Python 3.11.9, Linux x86_64")
