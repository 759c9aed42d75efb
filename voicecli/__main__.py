from voicecli.cli.main import run

run()
