"""One Wyoming connection: bounded reading, then asr, tts and handle requests.

Why ``run`` is overridden: the stock loop trusts ``data_length``/``payload_length`` without a
bound, turns bad JSON into a silent close and raises on ``{}`` or ``[]``. Here the header line
is checked first (the stream reader's limit bounds its length), the stated lengths are bounded,
and only then does the stock parser read the event, from exactly those bytes. An offending
client gets an ``error`` event and is closed; nothing it sends can raise out of this task.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging

from wyoming.asr import Transcribe, Transcript, TranscriptChunk, TranscriptStart, TranscriptStop
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event, async_read_event
from wyoming.handle import Handled, NotHandled
from wyoming.info import Describe
from wyoming.ping import Ping, Pong
from wyoming.server import AsyncEventHandler
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeStopped,
)

from voicecli.core.errors import VoicecliError
from voicecli.reply.sentences import SentenceSplitter
from voicecli.server.wyoming_asr import AsrStream, BadAudio
from voicecli.server.wyoming_reply import answer, synthesize

log = logging.getLogger(__name__)

_ids = itertools.count(1)
SAMPLES_PER_CHUNK = 1024
# After an ``error``, what the client still sends is read and dropped for up to this long
# before the socket closes: closed with unread bytes, the kernel resets the connection and the
# client can lose the error itself (seen for ``busy``, under load)
LINGER_S = 1.0


class Rejected(Exception):
    """The client broke the protocol or a limit: told with an ``error`` event, then closed."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = code


class WyomingHandler(AsyncEventHandler):
    def __init__(self, reader, writer, *, server) -> None:
        super().__init__(reader, writer)
        self.server = server
        self.options = server.options
        self.key = f"wyoming-{next(_ids)}"
        self.asr: AsrStream | None = None
        self.stream: tuple[SentenceSplitter, str | None] | None = None  # synthesize-start..stop
        self._task: asyncio.Task | None = None

    # -- the connection --------------------------------------------------------------------
    async def run(self) -> None:
        server = self.server
        self._task = asyncio.current_task()
        full = len(server.handlers) >= self.options.max_connections
        server.handlers.add(self)
        self._is_running = True
        error_sent = False
        try:
            if full:
                raise Rejected("busy", "server full: too many connections, try again later")
            while self._is_running:
                try:
                    event = await asyncio.wait_for(self._read(), self.options.idle_timeout_s)
                except TimeoutError:
                    raise Rejected("idle", "no event for too long: closing") from None
                if event is None or not await self._dispatch(event):
                    break
        except Rejected as rejected:
            log.info("wyoming %s: %s", self.key, rejected)
            await self._send_quietly(Error(text=str(rejected), code=rejected.code).event())
            error_sent = True
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away
        except Exception as exc:  # never a traceback out of the task: log it, tell the client
            log.exception("wyoming %s: request failed", self.key)
            error = Error(text=f"internal error: {exc!r}", code="internal")
            await self._send_quietly(error.event())
            error_sent = True
        finally:
            if self.asr is not None:
                self.asr.cancel()
            server.handlers.discard(self)
            try:
                if error_sent:
                    await self._linger()
            finally:
                self.writer.close()

    def cancel(self) -> None:
        """Server shutdown: end this connection even while it waits for a model or a reply."""
        if self._task is not None:
            self._task.cancel()

    async def _send_quietly(self, event: Event) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.write_event(event)

    async def _linger(self) -> None:
        """Our side done (EOF sent): drop what the client still sends until it closes, for
        at most ``LINGER_S``, so that the close is not a reset that loses the last event."""
        with contextlib.suppress(OSError, RuntimeError):  # resets and the timeout included
            if self.writer.can_write_eof():
                self.writer.write_eof()
            async with asyncio.timeout(LINGER_S):
                while await self.reader.read(1 << 16):
                    pass

    async def _read(self) -> Event | None:
        """One event with every length bounded first; None at the end of the stream."""
        try:
            line = await self.reader.readline()
        except ValueError:  # longer than the reader's limit
            raise Rejected("too_large", "event header line too long") from None
        if not line.endswith(b"\n"):
            return None  # end of stream (possibly mid-line: the client went away)
        try:
            header = json.loads(line)
        except ValueError:
            raise Rejected("bad_event", "event header is not JSON") from None
        if not isinstance(header, dict) or not isinstance(header.get("type"), str):
            raise Rejected("bad_event", "event header must be an object with a type")
        data_length = self._length(header, "data_length", self.options.max_data_bytes)
        payload_length = self._length(header, "payload_length", self.options.max_payload_bytes)
        body = await self.reader.readexactly(data_length + payload_length)
        exact = asyncio.StreamReader()
        exact.feed_data(line + body)
        exact.feed_eof()
        try:
            event = await async_read_event(exact)
        except (TypeError, AttributeError, KeyError):
            event = None
        if event is None or not isinstance(event.data, dict):
            raise Rejected("bad_event", f"malformed {header['type']} event")
        return event

    @staticmethod
    def _length(header: dict, name: str, limit: int) -> int:
        value = header.get(name) or 0
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise Rejected("bad_event", f"{name} must be a non-negative integer")
        if value > limit:
            raise Rejected("too_large", f"{name} {value} is over the limit of {limit} bytes")
        return value

    async def handle_event(self, event: Event) -> bool:
        return await self._dispatch(event)

    async def _dispatch(self, event: Event) -> bool:
        """Route one event; False closes the connection."""
        try:
            return await self._route(event)
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, BadAudio):
                raise Rejected("bad_audio", str(exc)) from None
            raise Rejected("bad_event", f"malformed {event.type} event: {exc!r}") from None
        except VoicecliError as exc:  # e.g. an unknown voice: this request fails, not the link
            await self.write_event(Error(text=str(exc), code=exc.code).event())
            return True

    async def _route(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self.write_event(self.server.info)
        elif Ping.is_type(event.type):
            await self.write_event(Pong(text=Ping.from_event(event).text).event())
        elif Transcribe.is_type(event.type):
            Transcribe.from_event(event)  # checked; the language is the model's
            await self._start_audio()
        elif AudioStart.is_type(event.type):
            AudioStart.from_event(event)
            await self._start_audio()
        elif AudioChunk.is_type(event.type):
            chunk = AudioChunk.from_event(event)
            if self.asr is None:  # a client that skipped audio-start
                await self._start_audio()
            self.asr.feed(chunk.audio or b"", chunk.rate, chunk.width, chunk.channels)
        elif AudioStop.is_type(event.type):
            await self._transcript()
        elif Synthesize.is_type(event.type):
            request = Synthesize.from_event(event)
            if self.stream is None:  # inside a stream it repeats the chunks (older servers)
                await self._speak(request.text, _voice(request.voice))
        elif SynthesizeStart.is_type(event.type):
            request = SynthesizeStart.from_event(event)
            self.stream = (SentenceSplitter(), _voice(request.voice))
        elif SynthesizeChunk.is_type(event.type):
            text = SynthesizeChunk.from_event(event).text
            if self.stream is not None:
                for sentence in self.stream[0].feed(text):
                    await self._speak(sentence, self.stream[1])
        elif SynthesizeStop.is_type(event.type):
            if self.stream is not None:
                splitter, voice = self.stream
                for sentence in splitter.flush():
                    await self._speak(sentence, voice)
                self.stream = None
            await self.write_event(SynthesizeStopped().event())
        elif Transcript.is_type(event.type):
            await self._handle(Transcript.from_event(event))
        else:
            log.debug("wyoming %s: ignoring %s", self.key, event.type)
        return True

    # -- asr -------------------------------------------------------------------------------
    async def _start_audio(self) -> None:
        backend = await self.server.ready()
        if self.asr is not None:
            self.asr.cancel()
        self.asr = AsrStream(backend.config, backend.stt, self.key, self.options.max_audio_s)

    async def _transcript(self) -> None:
        asr, self.asr = self.asr, None
        result = await asr.finish() if asr is not None else None
        text = result.text if result is not None else ""
        await self.write_event(TranscriptStart(language="en").event())
        if text:  # final text only: voicecli's partials revise earlier words
            await self.write_event(TranscriptChunk(text=text).event())
        await self.write_event(Transcript(text=text, language="en").event())
        await self.write_event(TranscriptStop().event())

    # -- tts -------------------------------------------------------------------------------
    async def _speak(self, text: str, voice: str | None) -> None:
        backend = await self.server.ready()
        pcm, rate = await self.server.tts_calls.call(synthesize, backend, text, voice)
        audio = dict(rate=rate, width=2, channels=1)
        await self.write_event(AudioStart(**audio).event())
        data = pcm.tobytes()
        step = SAMPLES_PER_CHUNK * 2
        for offset in range(0, len(data), step):
            chunk = AudioChunk(audio=data[offset : offset + step], **audio)
            await self.write_event(chunk.event())
        await self.write_event(AudioStop().event())

    # -- handle ----------------------------------------------------------------------------
    async def _handle(self, request: Transcript) -> None:
        backend = await self.server.ready()
        context = request.context or {}
        conversation = self.server.conversation(context.get("conversation_id"))
        call = self.server.reply_calls.call
        handled, text = await call(answer, backend, request.text, conversation)
        reply = Handled if handled else NotHandled
        await self.write_event(reply(text=text, context=request.context).event())


def _voice(voice) -> str | None:
    return voice.name if voice is not None and voice.name else None
