"""The WebSocket and Wyoming servers of one process share one STT worker and the models, and
run and stop together (``ServerGroup``, as ``voicecli serve --wyoming`` runs them)."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
from support.server import converse, final_replies, open_client, pcm_bytes, run
from support.wyoming import transcribe, transcript_text

from voicecli.audio.file import load_audio
from voicecli.core.config import Config
from voicecli.listen.stt_worker import SttWorker
from voicecli.server.app import ServerOptions, VoiceServer
from voicecli.server.group import ServerGroup
from voicecli.server.wyoming import WyomingOptions, WyomingServer


def test_both_servers_share_one_stt_worker(engines, shared_audio, question_pcm):
    stt = SttWorker(engines.stt).start()
    wyoming = WyomingServer(WyomingOptions(uri="tcp://127.0.0.1:0"), Config()).start()
    wyoming.provide(engines, stt)
    ws = VoiceServer(ServerOptions(port=0), engines, stt=stt)
    group = ServerGroup([ws, wyoming], stt).start()
    try:
        assert "ws://127.0.0.1:" in group.url and "tcp://127.0.0.1:" in group.url
        speech = load_audio(shared_audio / "real" / "utterances" / "ps_goforward.flac")
        pcm = pcm_bytes(np.concatenate([np.zeros(8000, np.float32), speech, np.zeros(16000)]))

        async def both():
            client = await open_client(ws)
            try:
                asr = transcribe(wyoming, pcm)
                return await asyncio.gather(converse(client, question_pcm), asr)
            finally:
                await client.close()

        messages, events = run(both())
        assert any("96" in reply for reply in final_replies(messages))
        assert "forward" in transcript_text(events).lower()
        stt_threads = [t for t in threading.enumerate() if t.name == "voicecli-stt"]
        assert len(stt_threads) == 1
        assert group.failure is None and not group.wait(0)
    finally:
        assert group.stop()
    assert not stt.thread.is_alive()
