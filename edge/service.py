"""``ar-translate service install``: the headless device service — ``ar-translate live`` started on
boot by systemd, with the MJPEG preview on 127.0.0.1 (``ssh -L 8090:127.0.0.1:8090 pi`` to watch it).

The unit restarts the run when it fails (a camera unplugged, a crash), logs to the journal
(``journalctl -u ar-translate``: the preview address, then the run's summary), and stops cleanly:
systemd's SIGTERM ends the run after the current frame and the summary is printed (``edge/live.py``).
Models and caches live in the service's own state folder (``StateDirectory``, ``AR_TRANSLATE_HOME``),
so ``models update`` run as the same user switches the service's model. No event log is written: one
record per frame would fill a Pi's SD card in days; ``--telemetry`` keeps counters instead.

    sudo .venv/bin/ar-translate service install --user pi            # writes the unit, enables and starts it
    sudo .venv/bin/ar-translate service install --print               # only shows the unit
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from edge.errors import InputError, OutputError

UNIT_NAME = "ar-translate.service"
UNIT_DIR = Path("/etc/systemd/system")
STATE = "ar-translate"  # StateDirectory: /var/lib/ar-translate, owned by the service's user


@dataclass
class ServiceOptions:
    user: str | None = None  # the account the run uses (None: root); it needs the "video" group for cameras
    camera: str = "0"
    profile: str | None = "pi4"
    preview_port: int = 8090
    extra: list[str] = field(default_factory=list)  # more ``live`` flags, e.g. --cloud-url URL, --telemetry
    python: str = sys.executable  # the interpreter of the virtual environment ar-translate is installed in


def live_command(options: ServiceOptions) -> list[str]:
    """The ``ar-translate live`` command the service runs."""
    command = [options.python, "-m", "edge", "live", "--camera", options.camera, "--no-window",
               "--preview-port", str(options.preview_port)]
    if options.profile:
        command += ["--profile", options.profile]
    return command + list(options.extra)


def unit_text(options: ServiceOptions) -> str:
    """The systemd unit."""
    if options.preview_port < 1 or options.preview_port > 65535:
        raise InputError(f"--preview-port must be 1–65535, not {options.preview_port}")
    account = f"User={options.user}\nSupplementaryGroups=video\n" if options.user else ""
    return f"""[Unit]
Description=ar-translate live: on-device sign translation from the camera (preview on 127.0.0.1:{options.preview_port})
Documentation=file://{Path(__file__).resolve().parents[1] / "README.md"}
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
{account}StateDirectory={STATE}
Environment=AR_TRANSLATE_HOME=/var/lib/{STATE}
Environment=PYTHONUNBUFFERED=1
ExecStart={shlex.join(live_command(options))}
Restart=on-failure
RestartSec=5
KillSignal=SIGTERM
TimeoutStopSec=30
StandardOutput=journal
StandardError=journal

[Install]
WantedBy=multi-user.target
"""


def install(options: ServiceOptions, unit_dir: Path = UNIT_DIR, start: bool = True) -> Path:
    """Write the unit into ``unit_dir``; with ``start``, reload systemd and enable and start the service.
    Returns the unit's path."""
    text = unit_text(options)
    path = unit_dir / UNIT_NAME
    try:
        unit_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc} (run it with sudo)") from None
    if start:
        systemctl = shutil.which("systemctl")
        if systemctl is None or not Path("/run/systemd/system").is_dir():
            raise OutputError(f"wrote {path}, but systemd is not running here: start it with "
                              f"'systemctl daemon-reload && systemctl enable --now {UNIT_NAME}' where it is")
        for args in (["daemon-reload"], ["enable", "--now", UNIT_NAME]):
            done = subprocess.run([systemctl, *args], capture_output=True, text=True)
            if done.returncode != 0:
                raise OutputError(f"systemctl {' '.join(args)} failed: {done.stderr.strip() or done.returncode}")
    return path
