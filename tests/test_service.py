"""The headless device service (``ar-translate service install``): the systemd unit it writes, and the
unit's own command run as systemd would run it — started, then stopped by SIGTERM with the summary in
its output (the journal). systemd itself does not run on these machines; ``systemd-analyze verify``
checks the unit where it is installed."""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time

import pytest

from edge.errors import OutputError
from edge.service import ServiceOptions, install
from tests.conftest import DEMO_VIDEO, ROOT, machine_pace, run_cli


def read_unit(path) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    unit.optionxform = str  # keys are case-sensitive
    unit.read_string(path.read_text())
    return unit


def test_install_writes_a_unit_that_restarts_logs_to_the_journal_and_stops_on_sigterm(tmp_path):
    done = run_cli("service", "install", "--user", "pi", "--camera", "picamera2", "--unit-dir", str(tmp_path),
                   "--no-start", "--", "--telemetry")
    assert done.returncode == 0, done.stderr
    unit = read_unit(tmp_path / "ar-translate.service")
    service = unit["Service"]
    assert service["Restart"] == "on-failure" and service["KillSignal"] == "SIGTERM"
    assert service["StandardOutput"] == "journal" and service["StandardError"] == "journal"
    assert service["User"] == "pi" and service["SupplementaryGroups"] == "video"
    assert service["StateDirectory"] == "ar-translate"
    command = shlex.split(service["ExecStart"])
    assert command[:4] == [sys.executable, "-m", "edge", "live"]
    assert command[command.index("--camera") + 1] == "picamera2" and "--no-window" in command
    assert command[command.index("--profile") + 1] == "pi4" and "--telemetry" in command
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    analyze = shutil.which("systemd-analyze")
    if analyze:  # where systemd's tools are installed, it must accept the unit
        check = subprocess.run([analyze, "verify", "--man=no", str(tmp_path / "ar-translate.service")],
                               capture_output=True, text=True)
        problems = [line for line in check.stderr.splitlines()
                    if "ar-translate.service" in line and "User" not in line and "Documentation" not in line]
        assert not problems, check.stderr


def test_the_units_command_runs_live_and_a_sigterm_ends_it_with_the_summary(tmp_path):
    install(ServiceOptions(camera=str(DEMO_VIDEO), preview_port=8090), tmp_path, start=False)
    command = shlex.split(read_unit(tmp_path / "ar-translate.service")["Service"]["ExecStart"])
    command[command.index("--preview-port") + 1] = "0"  # any free port on this shared machine
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60 * machine_pace()
        while time.time() < deadline:
            line = process.stderr.readline()
            if re.search(r"preview: http://127\.0\.0\.1:\d+/", line) or (not line and process.poll() is not None):
                break
        time.sleep(2)  # a few frames through the pipeline
        process.send_signal(signal.SIGTERM)  # what systemctl stop sends
        out, err = process.communicate(timeout=30 * machine_pace())
    finally:
        process.kill()
    assert process.returncode == 0, err
    summary = json.loads(out.strip().splitlines()[-1])  # the summary, in the journal
    assert summary["type"] == "summary" and summary["frames"] >= 1 and summary["profile"] == "pi4"


def test_install_without_systemd_says_how_to_start_it(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)  # no systemctl: not a systemd system
    with pytest.raises(OutputError, match="systemctl daemon-reload && systemctl enable --now ar-translate.service"):
        install(ServiceOptions(), tmp_path, start=True)
    assert (tmp_path / "ar-translate.service").is_file()  # written all the same
    with pytest.raises(OutputError, match="cannot write"):
        install(ServiceOptions(), tmp_path / "ar-translate.service" / "sub", start=False)  # a file in the way
