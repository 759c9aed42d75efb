"""PortAudio access for the microphone and speakers: the lazy import, device choice and listing.

Why one place: sounddevice is imported only on the live-audio paths (reading files must work on
a machine without PortAudio), and every way that fails -- no library, no device, a device that
cannot be opened -- becomes one ``AudioDeviceError`` (exit 4) that says how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from voicecli.core.errors import AudioDeviceError

NO_PORTAUDIO_HINT = "apt-get install libportaudio2, or use --input FILE"
KINDS = {"input": "microphone", "output": "speaker"}
HINTS = {"input": "connect one, or use --input FILE", "output": "use --output FILE or none"}


def sounddevice() -> ModuleType:
    """Import sounddevice, or say how to get PortAudio."""
    try:
        import sounddevice as sd
    except OSError as exc:
        raise AudioDeviceError(
            f"PortAudio library not found ({exc})", hint=NO_PORTAUDIO_HINT
        ) from None
    return sd


@dataclass(frozen=True)
class Device:
    index: int
    name: str
    inputs: int
    outputs: int
    rate: int
    host_api: str
    default_input: bool = False
    default_output: bool = False


def _spec(spec: str | int | None) -> str | int | None:
    """``--input-device``: an index, a part of a name, or None for the default."""
    if isinstance(spec, str) and spec.strip().isdigit():
        return int(spec)
    return spec or None


def pick(spec: str | int | None, kind: str) -> Device:
    """The device to open for ``kind`` (input | output), or an AudioDeviceError."""
    sd = sounddevice()
    what = KINDS[kind]
    try:
        info = sd.query_devices(device=_spec(spec), kind=kind)
    except (sd.PortAudioError, ValueError) as exc:
        wanted = f" {spec!r}" if spec not in (None, "") else ""
        raise AudioDeviceError(f"no {what}{wanted} found ({exc})", hint=HINTS[kind]) from None
    channels = info["max_input_channels" if kind == "input" else "max_output_channels"]
    if channels < 1:
        raise AudioDeviceError(f"device {info['name']!r} is not a {what}", hint=HINTS[kind])
    return _device(sd, info)


def _device(sd: ModuleType, info: dict) -> Device:
    defaults = list(sd.default.device)
    return Device(
        index=info["index"],
        name=info["name"],
        inputs=info["max_input_channels"],
        outputs=info["max_output_channels"],
        rate=int(info["default_samplerate"]),
        host_api=sd.query_hostapis(info["hostapi"])["name"],
        default_input=info["index"] == defaults[0],
        default_output=info["index"] == defaults[1],
    )


def list_devices() -> list[Device]:
    sd = sounddevice()
    return [_device(sd, info) for info in sd.query_devices()]


def open_error(device: Device, kind: str, exc: Exception) -> AudioDeviceError:
    return AudioDeviceError(f"cannot open {KINDS[kind]} {device.name!r}: {exc}", hint=HINTS[kind])
