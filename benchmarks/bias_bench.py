"""Recognition bias (reply/bias.py): WER, decode time and prompt leakage, with and without it.

    python benchmarks/bias_bench.py [--out FILE] [--voices real,numbers,piper,espeak] [--no-noise]

Four decoders on the same audio in one run: the short window and ``WhisperModel.transcribe()``
(beam 5, VAD filter: the bench's baseline), each without and with the SAME prompt (the one a
fresh conversation gets from ``stt.bias = "skills"``). So the prompt's effect and the short
window's can be told apart.

Voice families: the real recordings (../shared/audio/real/utterances, split by speaker into a
tuning half and a held-out half, below), and skill commands plus a few out-of-domain sentences
spoken by Piper (joe) and espeak-ng. Each clip gets 0.25 s of silence before it (the listener's
pre-roll) and none after (the short window pads its own).

Leakage: a word of the prompt in a transcript where the reference does not have it; counted
for every decoder (without the prompt it is the rate of such errors anyway). Noise: every
file of noise/ cut in 4 s windows, decoded without VAD (harsher than the pipeline, whose VAD
sends most of it nowhere): windows with any word, and windows with a prompt word. Numbers:
the digits are also decoded after the previous turn "What is eight times three?" in the
prompt, as the pipeline gives it (numbers removed) and raw, counting an 8 or 3 not said.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
from false_transcripts import REAL  # the shared recordings ($VOICECLI_SHARED_AUDIO)

from voicecli.audio.file import load_audio
from voicecli.bench.wer import normalize, word_errors
from voicecli.core.config import Config, SttConfig
from voicecli.listen.stt import SpeechToText
from voicecli.reply.bias import RecognitionBias, bias_for
from voicecli.reply.synth import silence, speak

LEAD_S = 0.25
NOISE_WINDOW_S = 4.0
# Tuning speakers: the prompt's form was chosen on these; the rest is held out.
TUNE_SPEAKERS = {"fsdd_george", "speech_commands_yes", "ps_goforward"}
TUNE_WAKE_FILES = 2  # the first two files (by name) of each wake word; the other three: held out
# What people ask the skills (one per ability, numbers chosen freely), and speech no skill
# handles: the prompt must not pull that towards its words.
COMMANDS = (
    "What is nine times seven?",
    "What is forty two plus seventeen?",
    "What is the square root of eighty one?",
    "Set a timer for twelve minutes.",
    "Cancel the pasta timer.",
    "How many kilometers are in twenty miles?",
    "Convert five pounds to kilograms.",
    "What is seventy degrees Fahrenheit in Celsius?",
    "What time is it?",
    "What's the date tomorrow?",
    "How warm is the processor?",
    "Say that again.",
    "Never mind.",
    "What can you do?",
)
OTHER = (
    "Tell me a joke about cats.",
    "Who wrote Pride and Prejudice?",
    "Play some jazz in the kitchen.",
    "The weather is lovely this afternoon.",
)
METHODS = ("short", "short+prompt", "transcribe", "transcribe+prompt")


def real_items() -> list[dict]:
    truth = json.loads((REAL / "utterances" / "truth.json").read_text())
    seen: dict[str, int] = {}
    items = []
    for name in sorted(truth):
        entry = truth[name]
        if entry["kind"] == "wake_word":
            seen[entry["text"]] = seen.get(entry["text"], 0) + 1
            tune = seen[entry["text"]] <= TUNE_WAKE_FILES
        else:
            tune = entry["speaker"] in TUNE_SPEAKERS
        audio = load_audio(REAL / "utterances" / name)
        items.append(
            {
                "name": name,
                "text": entry["text"],
                "set": entry["kind"],
                "split": "tune" if tune else "test",
                "audio": audio,
            }
        )
    return items


def synthetic_items(voice: str, family: str) -> list[dict]:
    return [
        {
            "name": f"{family}:{text}",
            "text": text,
            "set": "command" if text in COMMANDS else "other",
            "split": "test",
            "audio": speak(text, voice),
        }
        for text in (*COMMANDS, *OTHER)
    ]


class Decoders:
    def __init__(self, stt: SpeechToText) -> None:
        self.stt = stt

    def run(self, method: str, audio: np.ndarray, prompt: str) -> tuple[str, float]:
        use = prompt if method.endswith("+prompt") else ""
        audio = np.concatenate([silence(LEAD_S), audio])
        start = time.perf_counter()
        if method.startswith("short"):
            text = self.stt.short_window.decode(audio, prompt=use).text
        else:
            segments, _ = self.stt.model.transcribe(
                audio,
                language="en",
                beam_size=5,
                temperature=0.0,
                vad_filter=True,
                initial_prompt=use or None,
            )
            text = " ".join(s.text.strip() for s in segments).strip()
        return text, (time.perf_counter() - start) * 1000


# Words of the prompt too common to count as leaked when heard ("what", "is", "it", ...).
COMMON = {"what", "did", "i", "ask", "is", "it", "say", "that", "again", "can", "you", "do"}
COMMON |= {"by", "the", "a"}


def prompt_words(prompt: str) -> set[str]:
    return set(normalize(prompt).split()) - COMMON


def leaks(reference: str, hypothesis: str, words: set[str]) -> int:
    said = set(normalize(reference).split())
    return sum(1 for w in normalize(hypothesis).split() if w in words and w not in said)


def score(items: list[dict], decoders: Decoders, prompt: str) -> dict:
    words = prompt_words(prompt)
    rows = []
    for item in items:
        row = {k: item[k] for k in ("name", "text", "set", "split")}
        for method in METHODS:
            text, ms = decoders.run(method, item["audio"], prompt)
            row[method] = {"text": text, "ms": round(ms, 1)}
        rows.append(row)
    return {"rows": rows, "summary": summarise(rows, words)}


def summarise(rows: list[dict], words: set[str]) -> dict:
    out = {}
    groups = {"all": rows}
    for key in ("split", "set"):
        for value in sorted({r[key] for r in rows}):
            groups[f"{key}={value}"] = [r for r in rows if r[key] == value]
    for name, group in groups.items():
        entry = {"items": len(group)}
        for method in METHODS:
            errors = sum(word_errors(r["text"], r[method]["text"]).errors for r in group)
            total = sum(len(normalize(r["text"]).split()) for r in group)
            entry[method] = {
                "wer": round(errors / total, 4) if total else None,
                "errors": errors,
                "words": total,
                "leaked": sum(leaks(r["text"], r[method]["text"], words) for r in group),
                "ms_p50": round(statistics.median(r[method]["ms"] for r in group), 1),
            }
        out[name] = entry
    return out


def noise_windows(decoders: Decoders, prompt: str) -> dict:
    words = prompt_words(prompt)
    counts = {
        m: {"windows": 0, "with_words": 0, "with_prompt_words": 0, "texts": []} for m in METHODS
    }
    step = round(NOISE_WINDOW_S * 16000)
    for path in sorted((REAL / "noise").glob("*.flac")):
        audio = load_audio(path)
        for start in range(0, max(1, len(audio) - step // 2), step):
            window = audio[start : start + step]
            for method in METHODS:
                text, _ms = decoders.run(method, window, prompt)
                heard = normalize(text).split()
                entry = counts[method]
                entry["windows"] += 1
                if heard:
                    entry["with_words"] += 1
                    entry["texts"].append(f"{path.stem}: {text}")
                if any(w in words for w in heard):
                    entry["with_prompt_words"] += 1
    return counts


def number_leak(items: list[dict], decoders: Decoders) -> dict:
    """The digits after "What is eight times three?": an 8 or 3 heard where it was not said."""
    digits = [i for i in items if i["set"] == "word" and i["name"].startswith("fsdd_")]
    base = bias_for(Config(stt=SttConfig(bias="skills")))
    stripped = RecognitionBias(base.vocabulary)
    stripped.heard("What is eight times three?")
    raw = RecognitionBias(base.vocabulary, previous="What is 8 times 3?")
    out = {}
    for label, bias in (("numbers removed", stripped), ("raw previous turn", raw)):
        prompt = bias.prompt()
        for method in ("short+prompt", "transcribe+prompt"):
            leaked = errors = 0
            texts = []
            for item in digits:
                text, _ms = decoders.run(method, item["audio"], prompt)
                texts.append(text)
                hyp = normalize(text).split()
                said = normalize(item["text"]).split()
                leaked += sum(1 for w in hyp if w in ("8", "3") and w not in said)
                errors += word_errors(item["text"], text).errors
            out[f"{label} / {method}"] = {
                "prompt": prompt,
                "leaked": leaked,
                "errors": errors,
                "words": len(digits),
                "texts": texts,
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/bias.json"))
    parser.add_argument("--voices", default="real,numbers,piper,espeak")
    parser.add_argument("--no-noise", action="store_true")
    args = parser.parse_args()
    stt = SpeechToText(SttConfig())
    decoders = Decoders(stt)
    prompt = bias_for(Config(stt=SttConfig(bias="skills"))).prompt()
    decoders.run("short", silence(1.0), "")  # warm up
    report = {"prompt": prompt, "families": {}}
    voices = args.voices.split(",")
    real = real_items()
    if "real" in voices:
        report["families"]["real"] = score(real, decoders, prompt)
    if "numbers" in voices:
        report["number_leak"] = number_leak(real, decoders)
    if "piper" in voices:
        family = score(synthetic_items("piper:joe", "piper"), decoders, prompt)
        report["families"]["piper"] = family
    if "espeak" in voices:
        family = score(synthetic_items("gmw/en-us", "espeak"), decoders, prompt)
        report["families"]["espeak"] = family
    if not args.no_noise:
        report["noise"] = noise_windows(decoders, prompt)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    for family, data in report["families"].items():
        for group, entry in data["summary"].items():
            cells = "  ".join(
                f"{m}: {100 * entry[m]['wer']:.1f}% ({entry[m]['errors']}/{entry[m]['words']}) "
                f"leak {entry[m]['leaked']} p50 {entry[m]['ms_p50']:.0f}ms"
                for m in METHODS
                if entry[m]["wer"] is not None
            )
            print(f"{family:7s} {group:18s} {cells}")
    for label, entry in report.get("number_leak", {}).items():
        print(f"number leak, {label}: {entry['leaked']} leaked, {entry['errors']} errors")
    for method, entry in report.get("noise", {}).items():
        print(
            f"noise {method}: {entry['with_words']}/{entry['windows']} windows with words, "
            f"{entry['with_prompt_words']} with prompt words"
        )


if __name__ == "__main__":
    main()
