#!/usr/bin/env python3
"""Train a LoRA adapter on the chat JSONL that `hearth export --format openai-jsonl` writes.

The point is continuity: a companion's voice lives in its past replies, so a small adapter trained on
them lets an open-weights model carry that voice on when the hosted model it grew up on is retired.

    hearth export --format openai-jsonl -o sft.jsonl
    python scripts/finetune_lora.py --data sft.jsonl --base-model ./Qwen2.5-0.5B-Instruct --output lora/

The output folder holds the adapter (`adapter_config.json`, `adapter_model.safetensors`), the tokenizer,
and `hearth-lora.json`: the settings, the data's sha256, how many conversations went in and the final
loss, so an adapter can always be traced back to what made it.

`--tiny` swaps the base model for a tiny, randomly initialised Llama-style model and a tokenizer trained
on the data itself, both built offline in seconds: it checks the whole pipeline on a laptop CPU (the
tests use it); the adapter it makes has learnt nothing worth keeping.

The training libraries are optional: pip install 'hearth[finetune]'.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

ROLES = ("system", "user", "assistant")
INSTALL_HINT = "pip install 'hearth[finetune]'"
METADATA_NAME = "hearth-lora.json"
TINY_BASE_DIR = "tiny-base"

ATTENTION_PROJECTIONS = (
    "q_proj", "k_proj", "v_proj", "o_proj",  # Llama, Mistral, Qwen, Gemma, Phi-2, OPT, GPT-J
    "qkv_proj",  # Phi-3
    "query_key_value",  # Falcon, GPT-NeoX, Bloom
    "c_attn",  # GPT-2, StarCoder
    "Wqkv",  # MPT
)  # fmt: skip
"""Leaf names of attention projections across common architectures; `--target-modules auto` picks those present."""

CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{{- '<|im_start|>' + message['role'] + '\\n' -}}"
    "{%- if message['role'] == 'assistant' -%}"
    "{% generation %}{{- message['content'] + eos_token -}}{% endgeneration %}{{- '\\n' -}}"
    "{%- else -%}"
    "{{- message['content'] + eos_token + '\\n' -}}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}"
)
"""ChatML with the end-of-turn being the tokenizer's eos token, used for `--tiny` and for base models that
ship no chat template. The `{% generation %}` markers let trl mask everything but the assistant's replies
(and their end-of-turn token, so the model learns to stop)."""

TINY_SPECIAL_TOKENS = ("<|im_start|>", "<|im_end|>", "<|pad|>")


class FinetuneError(Exception):
    """A problem the person can fix; `main` prints it as one sentence, without a traceback."""


@dataclass
class Data:
    """The conversations read from the JSONL, and what identifies the file they came from."""

    conversations: list[list[dict[str, str]]]
    sha256: str
    lines: int


# ------------------------------------------------------------------ command line


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="finetune_lora.py",
        description=(
            "Train a LoRA adapter on the chat JSONL that `hearth export --format openai-jsonl` writes "
            '(one {"messages": [...]} conversation per line), so an open-weights model can carry on a '
            f"companion's voice. Needs the optional training libraries: {INSTALL_HINT}."
        ),
    )
    parser.add_argument(
        "--data", type=Path, required=True, metavar="PATH", help="The SFT chat JSONL from hearth export."
    )
    model = parser.add_mutually_exclusive_group(required=True)
    model.add_argument(
        "--base-model",
        metavar="PATH_OR_ID",
        help="A local Hugging Face model folder, or a hub id (downloaded by transformers when online).",
    )
    model.add_argument(
        "--tiny",
        action="store_true",
        help="Instead of a real model, build offline a tiny random Llama-style model and a tokenizer trained on "
        "the data: a quick check of the whole pipeline on CPU, not a useful adapter.",
    )
    parser.add_argument(
        "--output", type=Path, required=True, metavar="DIR", help="Folder for the adapter, tokenizer and metadata."
    )
    parser.add_argument("--epochs", type=float, default=2.0, help="Passes over the data (default: %(default)s).")
    parser.add_argument(
        "--max-steps", type=int, default=-1, help="Stop after this many optimiser steps, overriding --epochs when > 0."
    )
    parser.add_argument(
        "--lr", type=float, default=2e-4, help="Peak learning rate, AdamW with linear decay (default: %(default)s)."
    )
    parser.add_argument("--rank", type=int, default=16, help="LoRA rank r (default: %(default)s).")
    parser.add_argument(
        "--alpha", type=float, default=32.0, help="LoRA alpha; the update is scaled by alpha/r (default: %(default)s)."
    )
    parser.add_argument("--dropout", type=float, default=0.05, help="LoRA dropout (default: %(default)s).")
    parser.add_argument(
        "--max-seq-len",
        type=int,
        default=1024,
        help="Tokens per conversation; longer ones keep their start and are cut, and are counted in the output "
        "(default: %(default)s).",
    )
    parser.add_argument(
        "--batch-size", type=int, default=2, help="Conversations per device per step (default: %(default)s)."
    )
    parser.add_argument("--grad-accum", type=int, default=4, help="Gradient accumulation steps (default: %(default)s).")
    parser.add_argument(
        "--target-modules",
        default="auto",
        metavar="NAMES",
        help="Comma-separated module names to adapt, or 'auto': the attention projections present in the model "
        "(default: %(default)s).",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=42,
        help="Seed for the adapter's initialisation and data order (default: %(default)s).",
    )
    parser.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="auto (the default): CUDA when torch sees a GPU, with bf16 where supported, else CPU.",
    )
    parser.add_argument(
        "--gradient-checkpointing",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="Trade compute for memory (default: on, except with --tiny).",
    )
    parser.add_argument(
        "--hub-kernels",
        action="store_true",
        help="Let transformers swap layers for compiled kernels it downloads from the Hugging Face hub. Off by "
        "default: with it on, a GPU run offline stops at the first training step, unable to fetch them.",
    )
    parser.add_argument(
        "--log-every",
        type=int,
        default=10,
        metavar="N",
        help="Print the loss every N optimiser steps (default: %(default)s).",
    )
    args = parser.parse_args(argv)
    for name in ("rank", "max_seq_len", "batch_size", "grad_accum", "log_every"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.epochs <= 0 or args.lr <= 0:
        parser.error("--epochs and --lr must be positive")
    return args


# ------------------------------------------------------------------ data


def _shape_problem(obj: Any) -> str | None:
    """Why one parsed line is not a trainable conversation, or None when it is."""
    if not isinstance(obj, dict) or not isinstance(obj.get("messages"), list):
        return 'is not a {"messages": [...]} object'
    messages = obj["messages"]
    if not messages:
        return "has no messages"
    for i, msg in enumerate(messages, start=1):
        if not isinstance(msg, dict) or not isinstance(msg.get("content"), str):
            return f'has a message (#{i}) that is not a {{"role": ..., "content": "..."}} object'
        if msg.get("role") not in ROLES:
            return f"has a message (#{i}) with role {msg.get('role')!r}, not one of {', '.join(ROLES)}"
    if not any(msg["role"] == "assistant" for msg in messages):
        return "has no assistant message to learn from"
    return None


def load_data(path: Path) -> Data:
    """Read and check every line before any heavy import, so a bad file fails in a second, naming the line."""
    if not path.exists():
        raise FinetuneError(f"The data file {path} does not exist (make it with: hearth export --format openai-jsonl).")
    if not path.is_file():
        raise FinetuneError(f"The data path {path} is not a file.")
    digest = hashlib.sha256()
    conversations: list[list[dict[str, str]]] = []
    lines = 0
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            digest.update(raw)
            lines = number
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except UnicodeDecodeError:
                raise FinetuneError(f"{path} line {number} is not UTF-8 text.") from None
            except json.JSONDecodeError as exc:
                raise FinetuneError(f"{path} line {number} is not valid JSON ({exc.msg}).") from None
            problem = _shape_problem(obj)
            if problem:
                raise FinetuneError(f"{path} line {number} {problem}.")
            conversations.append([{"role": m["role"], "content": m["content"]} for m in obj["messages"]])
    if not conversations:
        raise FinetuneError(f"{path} holds no conversations to train on.")
    return Data(conversations=conversations, sha256=digest.hexdigest(), lines=lines)


def _texts(conversations: list[list[dict[str, str]]]) -> Iterator[str]:
    for conversation in conversations:
        for message in conversation:
            yield message["content"]


# ------------------------------------------------------------------ libraries, device


def require_libraries() -> dict[str, str]:
    """Import the optional training stack up front, so a missing piece is one clear sentence, not a traceback."""
    versions: dict[str, str] = {}
    for name in ("torch", "transformers", "tokenizers", "datasets", "accelerate", "peft", "trl"):
        try:
            module = __import__(name)
        except ImportError as exc:
            missing = exc.name or name
            raise FinetuneError(
                f"The fine-tuning libraries are not installed ({missing} is missing): {INSTALL_HINT}."
            ) from None
        versions[name] = getattr(module, "__version__", "unknown")
    return versions


@dataclass
class Device:
    """Where training runs and in which precision, decided once so loading and training agree."""

    kind: str
    bf16: bool
    fp16: bool

    @property
    def dtype_name(self) -> str:
        return "bfloat16" if self.bf16 else "float32"


def pick_device(requested: str) -> Device:
    """CUDA with bf16 where the GPU has it (fp16 mixed precision otherwise); plain float32 on CPU."""
    import torch

    has_cuda = torch.cuda.is_available()
    if requested == "cuda" and not has_cuda:
        raise FinetuneError("--device cuda was given but torch sees no CUDA GPU; use --device cpu or auto.")
    if requested == "cpu" or not has_cuda:
        return Device("cpu", bf16=False, fp16=False)
    bf16 = torch.cuda.is_bf16_supported()
    return Device("cuda", bf16=bf16, fp16=not bf16)


# ------------------------------------------------------------------ the tiny offline model


def build_tiny_base(data: Data, folder: Path, seed: int) -> Path:
    """A tiny random Llama and a byte-level BPE tokenizer trained on the data, saved like any local model.

    Saving it (rather than keeping it in memory) means the rest of the pipeline loads it exactly as it
    would load a real model folder, and the adapter's config points at a base that still exists later.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast, set_seed

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=1024,
        min_frequency=2,
        special_tokens=list(TINY_SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator([*_texts(data.conversations), *ROLES], trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|pad|>")
    tokenizer.chat_template = CHAT_TEMPLATE

    set_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = LlamaForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


# ------------------------------------------------------------------ model, tokenizer, LoRA


def load_base(name: str, device: Device) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The base model and its tokenizer; a load failure (wrong path, offline hub id) becomes one sentence."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    local = Path(name).expanduser()
    if local.exists():
        name = str(local)
    elif name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name:
        raise FinetuneError(f"The base model folder {name} does not exist.")
    try:
        tokenizer = AutoTokenizer.from_pretrained(name)
        model = AutoModelForCausalLM.from_pretrained(name, dtype=torch.bfloat16 if device.bf16 else torch.float32)
    except (OSError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FinetuneError(f"Cannot load the base model {name!r} ({reason.rstrip('.')}).") from None
    return model, tokenizer


def target_modules(model: PreTrainedModel, requested: str) -> list[str]:
    """The module names LoRA adapts: as given, or the attention projections this architecture actually has."""
    present = {name.rsplit(".", 1)[-1] for name, module in model.named_modules() if not list(module.children())}
    if requested != "auto":
        wanted = [m.strip() for m in requested.split(",") if m.strip()]
        unknown = [m for m in wanted if m not in present]
        if not wanted or unknown:
            lacking = ", ".join(unknown) or "none given"
            raise FinetuneError(f"--target-modules names modules this model lacks ({lacking}).")
        return wanted
    found = [name for name in ATTENTION_PROJECTIONS if name in present]
    if not found:
        raise FinetuneError("Found no attention projections in this model; name them with --target-modules.")
    return found


def loss_mode(tokenizer: PreTrainedTokenizerBase) -> tuple[bool, str]:
    """Whether the installed trl can train on the assistant's turns only with this tokenizer, and why not.

    trl's `assistant_only_loss` needs a chat template with `{% generation %}` markers, or one it knows how
    to patch; a template it cannot patch would fail mid-setup, so it is checked here and training falls
    back to whole conversations, saying so in the metadata.
    """
    from trl import SFTConfig

    if "assistant_only_loss" not in SFTConfig.__dataclass_fields__:
        return False, "this trl version has no assistant_only_loss"
    try:
        from trl.chat_template_utils import get_training_chat_template, has_generation_markers
    except ImportError:
        return False, "this trl version cannot check chat templates for assistant masks"
    if has_generation_markers(tokenizer.chat_template):
        return True, "the chat template marks assistant turns"
    try:
        get_training_chat_template(tokenizer)
    except ValueError:
        return False, "trl cannot add assistant masks to this model's chat template"
    return True, "trl patches this model's chat template with assistant masks"


def count_truncated(conversations: list[list[dict[str, str]]], tokenizer: PreTrainedTokenizerBase, limit: int) -> int:
    """How many conversations run past --max-seq-len, so the person knows how much of the data is cut."""
    return sum(
        len(tokenizer.apply_chat_template(conv, tokenize=True, return_dict=True)["input_ids"]) > limit
        for conv in conversations
    )


# ------------------------------------------------------------------ training


def _loss_printer() -> Any:
    """A Trainer callback printing one readable line per log, instead of the Trainer's raw dicts.

    It also logs the last step, whatever --log-every is, so the final loss recorded is the end of training's.
    """
    from transformers import TrainerCallback

    class LossPrinter(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if state.global_step >= state.max_steps:
                control.should_log = True

        def on_log(
            self, args: Any, state: Any, control: Any, logs: dict[str, float] | None = None, **kwargs: Any
        ) -> None:
            if state.is_local_process_zero and logs and "loss" in logs:
                print(
                    f"step {state.global_step:>5}/{state.max_steps}  epoch {logs.get('epoch', 0.0):5.2f}  "
                    f"loss {logs['loss']:.4f}  lr {logs.get('learning_rate', 0.0):.2e}",
                    flush=True,
                )

    return LossPrinter()


def _final_loss(log_history: list[dict[str, Any]], fallback: float) -> float:
    losses = [entry["loss"] for entry in log_history if "loss" in entry]
    return float(losses[-1]) if losses else float(fallback)


def train(args: argparse.Namespace, data: Data, versions: dict[str, str]) -> dict[str, Any]:
    """Load (or build) the base, wrap it with LoRA via trl's SFTTrainer, train, and save the adapter."""
    import datasets
    import transformers
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import PrinterCallback, set_seed
    from trl import SFTConfig, SFTTrainer

    # The loss lines are the progress; per-map and per-shard bars would bury them.
    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
    # trl and peft still call this transformers 5 alias; the warning is theirs to fix, not the person's.
    warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning)
    started = time.monotonic()
    device = pick_device(args.device)
    output: Path = args.output.resolve()
    base_name = str(build_tiny_base(data, output / TINY_BASE_DIR, args.seed)) if args.tiny else args.base_model
    model, tokenizer = load_base(base_name, device)

    template = "model"
    if not tokenizer.chat_template:
        if tokenizer.eos_token is None:
            raise FinetuneError(f"The base model {base_name!r} has neither a chat template nor an eos token.")
        tokenizer.chat_template = CHAT_TEMPLATE
        template = "hearth ChatML (the model has none)"
    assistant_only, loss_reason = loss_mode(tokenizer)
    modules = target_modules(model, args.target_modules)
    truncated = count_truncated(data.conversations, tokenizer, args.max_seq_len)
    checkpointing = (not args.tiny) if args.gradient_checkpointing is None else args.gradient_checkpointing

    loss_on = "assistant turns" if assistant_only else "whole conversations"
    print(
        f"Training a LoRA (r={args.rank}, alpha={args.alpha:g}, on {', '.join(modules)}) of {base_name} "
        f"on {len(data.conversations):,} conversations from {args.data}; device {device.kind} "
        f"({'bf16' if device.bf16 else 'fp16' if device.fp16 else 'float32'}); loss on {loss_on} ({loss_reason}).",
        flush=True,
    )
    if truncated:
        print(
            f"{truncated:,} of {len(data.conversations):,} conversations are longer than --max-seq-len "
            f"{args.max_seq_len} tokens: only their start is trained on.",
            flush=True,
        )

    # transformers 5 renamed gradient_checkpointing to activation_checkpointing: the new name, where it exists,
    # overrides trl's default (True) for the old one without a deprecation warning.
    renamed = "activation_checkpointing" in SFTConfig.__dataclass_fields__
    checkpointing_field = "activation_checkpointing" if renamed else "gradient_checkpointing"
    set_seed(args.seed)
    config = SFTConfig(
        output_dir=str(output),
        num_train_epochs=args.epochs,
        max_steps=args.max_steps,
        learning_rate=args.lr,
        per_device_train_batch_size=args.batch_size,
        gradient_accumulation_steps=args.grad_accum,
        max_length=args.max_seq_len,
        assistant_only_loss=assistant_only,
        **{checkpointing_field: checkpointing},
        bf16=device.bf16,
        fp16=device.fp16,
        use_cpu=device.kind == "cpu",
        dataloader_pin_memory=device.kind == "cuda",
        logging_steps=args.log_every,
        logging_first_step=True,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        seed=args.seed,
        data_seed=args.seed,
    )
    lora = LoraConfig(
        r=args.rank,
        lora_alpha=args.alpha,
        lora_dropout=args.dropout,
        target_modules=modules,
        bias="none",
        task_type="CAUSAL_LM",
    )
    dataset = Dataset.from_list([{"messages": conv} for conv in data.conversations])
    trainer = SFTTrainer(model=model, args=config, train_dataset=dataset, processing_class=tokenizer, peft_config=lora)
    trainer.remove_callback(PrinterCallback)
    trainer.add_callback(_loss_printer())
    trained_on = len(trainer.train_dataset)
    if trained_on == 0:
        raise FinetuneError(f"No conversation has an assistant reply within --max-seq-len {args.max_seq_len} tokens.")

    result = trainer.train()
    trainer.save_model(str(output))
    tokenizer.save_pretrained(str(output))

    final_loss = _final_loss(trainer.state.log_history, result.training_loss)
    metadata = {
        "tool": "hearth scripts/finetune_lora.py",
        "base_model": base_name,
        "tiny": args.tiny,
        "data": {
            "path": str(args.data.resolve()),
            "sha256": data.sha256,
            "lines": data.lines,
        },
        "examples": len(data.conversations),
        "examples_trained": trained_on,
        "examples_truncated": truncated,
        "loss_on": loss_on,
        "loss_on_reason": loss_reason,
        "chat_template": template,
        "final_loss": final_loss,
        "mean_loss": float(result.training_loss),
        "steps": trainer.state.global_step,
        "seconds": round(time.monotonic() - started, 1),
        "settings": {
            "epochs": args.epochs,
            "max_steps": args.max_steps,
            "lr": args.lr,
            "rank": args.rank,
            "alpha": args.alpha,
            "dropout": args.dropout,
            "max_seq_len": args.max_seq_len,
            "batch_size": args.batch_size,
            "grad_accum": args.grad_accum,
            "target_modules": modules,
            "seed": args.seed,
            "device": device.kind,
            "dtype": device.dtype_name,
            "mixed_precision": "bf16" if device.bf16 else "fp16" if device.fp16 else "no",
            "gradient_checkpointing": checkpointing,
            "hub_kernels": bool(getattr(model, "use_kernels", False)),
        },
        "versions": versions,
    }
    (output / METADATA_NAME).write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return metadata


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Read by transformers when it loads a model (it kernelizes by default whenever `kernels` is installed).
    os.environ["USE_HUB_KERNELS"] = "YES" if args.hub_kernels else "NO"
    try:
        data = load_data(args.data)
        versions = require_libraries()
        metadata = train(args, data, versions)
    except FinetuneError as exc:
        print(f"finetune_lora: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("finetune_lora: interrupted; no adapter was saved.", file=sys.stderr)
        return 130
    loss, steps = metadata["final_loss"], metadata["steps"]
    if not math.isfinite(loss):
        print(f"finetune_lora: warning: the final loss is {loss}; try a lower --lr.", file=sys.stderr)
    print(
        f"Saved the LoRA adapter to {args.output}: {metadata['examples_trained']:,} conversations, "
        f"{steps} step{'' if steps == 1 else 's'} in {metadata['seconds']:.0f} s, final loss {loss:.4f} "
        f"(on {metadata['loss_on']}).",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
