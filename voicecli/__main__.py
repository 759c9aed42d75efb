from voicecli.cli import run

run()
