"""scripts/finetune_lora.py end to end: a real export trains a real (tiny) LoRA on CPU, and bad input fails cleanly.

The training run uses `--tiny` (a random Llama-style model and a tokenizer trained on the data, built offline),
so everything from chat template to PeftModel reload is exercised without a download or a GPU.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, ROOT, run_hearth

SCRIPT = ROOT / "scripts" / "finetune_lora.py"
FIXTURE = FIXTURES / "chatgpt" / "gypadham_2025-01"
TRAINING_STACK = ("torch", "transformers", "peft", "trl", "datasets", "accelerate")


def run_script(*args: str, hf_home: Path, code: str | None = None) -> subprocess.CompletedProcess:
    """The script in a subprocess, offline: any attempt to reach the Hugging Face hub would fail the run."""
    env = {
        **os.environ,
        "HF_HOME": str(hf_home),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    command = [sys.executable, "-c", code, *args] if code else [sys.executable, str(SCRIPT), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


def assert_one_sentence_error(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("finetune_lora: error: ") and lines[0].endswith("."), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="module")
def sft_jsonl(tmp_path_factory) -> Path:
    """The real SFT export of a real ChatGPT fixture, made with the real CLI."""
    if not FIXTURE.exists():
        pytest.skip(f"fixture {FIXTURE} not present")
    folder = tmp_path_factory.mktemp("sft")
    db = folder / "hearth.db"
    imported = run_hearth("import", str(FIXTURE), db=db)
    assert imported.returncode == 0, imported.stderr
    path = folder / "sft.jsonl"
    exported = run_hearth("export", "--format", "openai-jsonl", "-o", str(path), db=db)
    assert exported.returncode == 0, exported.stderr
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory, sft_jsonl) -> tuple[subprocess.CompletedProcess, Path]:
    for name in TRAINING_STACK:
        pytest.importorskip(name)
    work = tmp_path_factory.mktemp("lora")
    output = work / "adapter"
    proc = run_script(
        "--data", str(sft_jsonl), "--tiny", "--output", str(output),
        "--epochs", "1", "--max-seq-len", "128", "--batch-size", "4", "--grad-accum", "1", "--log-every", "1",
        hf_home=work / "hf",
    )  # fmt: skip
    return proc, output


def test_trains_and_saves_adapter(trained, sft_jsonl):
    proc, output = trained
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert (output / "adapter_config.json").is_file()
    assert (output / "adapter_model.safetensors").is_file()
    assert (output / "tokenizer.json").is_file()

    meta = json.loads((output / "hearth-lora.json").read_text())
    lines = [line for line in sft_jsonl.read_text().splitlines() if line.strip()]
    assert meta["examples"] == len(lines) > 0
    assert 0 < meta["examples_trained"] <= meta["examples"]
    assert meta["loss_on"] == "assistant turns"
    assert meta["steps"] >= 1
    assert math.isfinite(meta["final_loss"]) and meta["final_loss"] > 0
    assert meta["settings"]["target_modules"] == ["q_proj", "k_proj", "v_proj", "o_proj"]
    assert len(meta["data"]["sha256"]) == 64
    # transformers kernelizes by default when `kernels` is installed, fetching kernels from the hub at the first
    # training step on a GPU: offline, that run died (seen on an H200). Off unless --hub-kernels asks for it.
    assert meta["settings"]["hub_kernels"] is False

    loss_lines = [line for line in proc.stdout.splitlines() if line.startswith("step ") and " loss " in line]
    assert len(loss_lines) == meta["steps"]
    assert proc.stdout.strip().splitlines()[-1].startswith("Saved the LoRA adapter to ")


@pytest.mark.filterwarnings("ignore:`is_gradient_checkpointing` is deprecated:FutureWarning")  # peft's call, not ours
def test_adapter_reloads_and_generates(trained):
    proc, output = trained
    assert proc.returncode == 0, proc.stdout + proc.stderr
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    meta = json.loads((output / "hearth-lora.json").read_text())
    adapter_config = json.loads((output / "adapter_config.json").read_text())
    assert adapter_config["base_model_name_or_path"] == meta["base_model"]

    tokenizer = AutoTokenizer.from_pretrained(output)
    base = AutoModelForCausalLM.from_pretrained(meta["base_model"])
    model = PeftModel.from_pretrained(base, output).eval()
    trained_b = [p for name, p in model.named_parameters() if "lora_B" in name]
    assert trained_b and any(p.abs().sum() > 0 for p in trained_b)  # LoRA B starts at zero: nonzero means it learnt

    messages = [{"role": "user", "content": "Good morning!"}]
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        generated = model.generate(**prompt, max_new_tokens=5, min_new_tokens=5, do_sample=False)
    assert generated.shape[1] == prompt["input_ids"].shape[1] + 5
    assert isinstance(tokenizer.decode(generated[0, prompt["input_ids"].shape[1] :]), str)


PLAIN_CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
"""A ChatML template without `{% generation %}` markers, which trl cannot patch: training falls back to whole
conversations. (A real model's template it knows, e.g. Qwen's, gets patched instead.)"""


@pytest.mark.parametrize(
    ("template", "loss_on", "chat_template"),
    [(None, "assistant turns", "hearth ChatML (the model has none)"), (PLAIN_CHATML, "whole conversations", "model")],
    ids=["no-template", "template-without-markers"],
)
def test_base_model_folder_and_its_chat_template(trained, sft_jsonl, tmp_path, template, loss_on, chat_template):
    """A local model folder, as people pass with --base-model: the loss covers what its template allows."""
    proc, output = trained
    assert proc.returncode == 0, proc.stdout + proc.stderr
    base = tmp_path / "base"
    shutil.copytree(json.loads((output / "hearth-lora.json").read_text())["base_model"], base)
    (base / "chat_template.jinja").unlink(missing_ok=True)
    tokenizer_config = json.loads((base / "tokenizer_config.json").read_text())
    tokenizer_config.pop("chat_template", None)
    (base / "tokenizer_config.json").write_text(json.dumps(tokenizer_config))
    if template:
        (base / "chat_template.jinja").write_text(template)

    out = tmp_path / "adapter"
    run = run_script(
        "--data", str(sft_jsonl), "--base-model", str(base), "--output", str(out), "--max-steps", "1",
        "--max-seq-len", "64", "--batch-size", "2", "--grad-accum", "1", "--target-modules", "q_proj,v_proj",
        hf_home=tmp_path / "hf",
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    meta = json.loads((out / "hearth-lora.json").read_text())
    assert (meta["loss_on"], meta["chat_template"]) == (loss_on, chat_template)
    assert meta["settings"]["target_modules"] == ["q_proj", "v_proj"]
    assert meta["settings"]["gradient_checkpointing"] is True
    assert meta["steps"] == 1 and math.isfinite(meta["final_loss"])
    assert json.loads((out / "adapter_config.json").read_text())["base_model_name_or_path"] == str(base)


def test_missing_base_model_folder(trained, sft_jsonl, tmp_path):
    proc = run_script("--data", str(sft_jsonl), "--base-model", str(tmp_path / "no-model"), "--output",
                      str(tmp_path / "out"), hf_home=tmp_path / "hf")  # fmt: skip
    assert_one_sentence_error(proc, "does not exist")
    assert not (tmp_path / "out").exists()


def test_missing_data_file(tmp_path):
    proc = run_script("--data", str(tmp_path / "nope.jsonl"), "--tiny", "--output", str(tmp_path / "out"),
                      hf_home=tmp_path / "hf")  # fmt: skip
    assert_one_sentence_error(proc, "does not exist")


@pytest.mark.parametrize(
    ("bad_line", "why"),
    [
        ("{not json", "is not valid JSON"),
        ('{"text": "hello"}', 'is not a {"messages": [...]} object'),
        ('{"messages": [{"role": "user", "content": 3}]}', "message (#1)"),
        ('{"messages": [{"role": "tool", "content": "x"}]}', "role 'tool'"),
        ('{"messages": [{"role": "user", "content": "hi"}]}', "no assistant message"),
    ],
)
def test_malformed_line_names_the_line(tmp_path, bad_line, why):
    good = json.dumps({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]})
    data = tmp_path / "bad.jsonl"
    data.write_text(f"{good}\n\n{bad_line}\n{good}\n")
    proc = run_script("--data", str(data), "--tiny", "--output", str(tmp_path / "out"), hf_home=tmp_path / "hf")
    assert_one_sentence_error(proc, "line 3", why)
    assert not (tmp_path / "out").exists()


def test_no_examples(tmp_path):
    data = tmp_path / "empty.jsonl"
    data.write_text("\n  \n")
    proc = run_script("--data", str(data), "--tiny", "--output", str(tmp_path / "out"), hf_home=tmp_path / "hf")
    assert_one_sentence_error(proc, "no conversations")


def test_missing_training_libraries_names_the_extra(tmp_path, sft_jsonl):
    """With torch unimportable (None in sys.modules), the script says what to install instead of crashing."""
    code = (
        "import runpy, sys; sys.modules['torch'] = None; sys.argv = ['finetune_lora.py', *sys.argv[1:]]; "
        f"runpy.run_path({str(SCRIPT)!r}, run_name='__main__')"
    )
    proc = run_script("--data", str(sft_jsonl), "--tiny", "--output", str(tmp_path / "out"), hf_home=tmp_path / "hf",
                      code=code)  # fmt: skip
    assert_one_sentence_error(proc, "torch is missing", "pip install 'hearth[finetune]'")


def test_help_works_without_training():
    proc = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    for option in ("--data", "--base-model", "--tiny", "--target-modules", "--device", "--max-seq-len"):
        assert option in proc.stdout
