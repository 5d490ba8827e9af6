#!/usr/bin/env python3
"""Play -> first sound, measured on the real app through a real audio stack.

    bench/first_sound.py STEMDECK SESSION [PRESSES]   (runs `STEMDECK open SESSION`)

Run by bench/first-sound.sh, which sets up PulseAudio (a null sink, the default), an X
server (Xvfb) and the environment. Opens SESSION in the real window (STEMDECK binary),
records the null sink's monitor with parec as raw samples, presses Space (Play) with
xdotool, and times from the key press to the first sample above -80 dBFS that the sink
played. Each chunk parec hands over is stamped when it arrives, so a sample's time is
its chunk's arrival minus the frames after it in that chunk: never earlier than it was
played (parec's own latency, a few ms here, is counted against Stemdeck).

Launches: cold (a new, empty peak cache each time, so the waveform overviews are being
computed while Play is pressed) with Play pressed AT seconds after the window appears,
for each AT in $PRESS_AT (default "0.3 1 2"); then warm (the cache the last cold run
filled) at the first AT, followed by PRESSES - 1 more presses after pausing. Prints one
line per press, what PulseAudio reports of the app's stream (its buffer), and how soon
Pause silences it, and the app's peak RSS when it is closed.

Waveforms: every launch runs with STEMDECK_TIMING=1, so the app prints when its window
first drew every overview (counted from opening the session); each launch waits for
that line before closing and prints it. After the Play launches, $OPEN_RUNS (default
3) cold launches and one warm launch that only open the session (no Play) time the
overviews alone. Figures only: nothing is asserted.
"""

import array
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

RATE = 48000
THRESHOLD = 10 ** (-80 / 20)  # -80 dBFS


class Recorder:
    """parec of the sink monitor, s16 stereo, chunks stamped on arrival."""

    def __init__(self, source):
        self.proc = subprocess.Popen(
            ["parec", "-d", source, "--raw", "--format=s16le", f"--rate={RATE}",
             "--channels=2", "--latency-msec=5"],
            stdout=subprocess.PIPE, bufsize=0)
        self.lock = threading.Lock()
        self.frames = 0  # frames received so far
        self.loud = []  # (arrival time, frame index) of the first loud frame of a chunk
        self.last_loud = 0.0  # arrival time of the last chunk with a loud frame
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        pending = b""
        limit = int(THRESHOLD * 32768)
        while not self.stop:
            data = self.proc.stdout.read(4096)
            if not data:
                return
            now = time.monotonic()
            data = pending + data
            whole = len(data) // 4 * 4
            pending = data[whole:]
            samples = array.array("h", data[:whole])
            n = len(samples) // 2
            first = next((i for i, s in enumerate(samples) if abs(s) > limit), None)
            with self.lock:
                if first is not None:
                    self.last_loud = now
                    frame = first // 2
                    # Played no later than the chunk's arrival minus what followed it.
                    at = now - (n - frame) / RATE
                    self.loud.append((at, self.frames + frame))
                self.frames += n

    def first_loud_after(self, t):
        with self.lock:
            return next((at for at, _ in self.loud if at >= t), None)

    def silent_since(self):
        with self.lock:
            return time.monotonic() - self.last_loud

    def close(self):
        self.stop = True
        self.proc.terminate()
        self.proc.wait()


def sink_input_latency():
    """PulseAudio's buffer and sink latency for the app's stream, as reported."""
    out = subprocess.run(["pactl", "list", "sink-inputs"], capture_output=True,
                         text=True).stdout
    # Only the app's stream: not the one first-sound.sh plays to keep the sink awake.
    ours = [b for b in out.split("Sink Input #") if "stemdeck" in b.lower()]
    lat = re.findall(r"(Buffer Latency|Sink Latency): (\d+) usec", "".join(ours))
    return ", ".join(f"{k.lower()} {int(v) / 1000:.0f} ms" for k, v in lat) or "none"


class App:
    """The real app on SESSION, its window found with xdotool."""

    def __init__(self, exe, session, cache):
        env = dict(os.environ, STEMDECK_CACHE_DIR=cache, STEMDECK_TIMING="1")
        self.started = time.monotonic()
        # This launch's stderr alone (a warm launch reuses a cold one's cache path).
        self.log = cache + ".log"
        self.proc = subprocess.Popen([exe, "open", session], stdout=subprocess.DEVNULL,
                                     stderr=open(self.log, "w"), env=env)
        self.wid = None
        while self.wid is None and time.monotonic() - self.started < 60:
            r = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "Stemdeck"],
                               capture_output=True, text=True)
            ids = r.stdout.split()
            self.wid = ids[0] if ids else None
            if self.wid is None:
                time.sleep(0.02)
        if self.wid is None:
            code = self.proc.poll()
            self.close()
            with open(self.log, errors="replace") as f:
                tail = f.read()[-2000:]
            sys.exit("the window did not appear within 60 s (the app "
                     + ("is still running" if code is None else f"exited with {code}")
                     + "); its stderr ended with:\n" + tail)
        self.window_at = time.monotonic() - self.started
        # No window manager: give the window the keyboard focus ourselves.
        for _ in range(100):
            if subprocess.run(["xdotool", "windowfocus", "--sync", self.wid],
                              capture_output=True).returncode == 0:
                break
            time.sleep(0.01)

    def key(self, name):
        subprocess.run(["xdotool", "key", name], check=True)

    def waveforms(self, label, timeout=60.0):
        """Wait for the app's line saying every overview is drawn; print it and return
        its seconds (from opening the session), or None."""
        line = re.compile(r"timing: (\d+) waveform overviews drawn ([0-9.]+) s after opening")
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with open(self.log, errors="replace") as f:
                m = line.search(f.read())
            if m:
                secs = float(m.group(2))
                print(f"  waveforms, {label}: {m.group(1)} overviews drawn {secs:.2f} s "
                      "after opening")
                return secs
            time.sleep(0.05)
        print(f"  waveforms, {label}: not all drawn within {timeout:.0f} s")
        return None

    def peak_rss_mb(self):
        """The app's peak resident memory so far (VmHWM), MB."""
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                kb = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
            return kb / 1024
        except (OSError, StopIteration, ValueError):
            return float("nan")

    def close(self):
        print(f"  the app's peak RSS: {self.peak_rss_mb():.0f} MB "
              f"({time.monotonic() - self.started:.0f} s after launch)")
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        keep = os.environ.get("APP_LOG")
        if keep:
            with open(self.log, errors="replace") as src, open(keep, "a") as dst:
                dst.write(src.read())


def press_play(app, rec, label):
    """Press Space; the time to the first sound, or None."""
    pressed = time.monotonic()
    app.key("space")
    sound = None
    while sound is None and time.monotonic() - pressed < 10:
        time.sleep(0.01)
        sound = rec.first_loud_after(pressed)
    when = f"{pressed - app.started:.1f} s after launch, window at {app.window_at:.2f} s"
    if sound is None:
        print(f"{label} ({when}): no sound within 10 s")
        return None
    print(f"{label} ({when}): first sound after {(sound - pressed) * 1000:.0f} ms")
    return sound - pressed


def pause(app, rec):
    """Press Space; wait until what was buffered has played out (0.5 s of silence)."""
    app.key("space")
    paused = time.monotonic()
    time.sleep(0.6)
    while rec.silent_since() < 0.5 and time.monotonic() - paused < 15:
        time.sleep(0.05)
    if rec.last_loud == 0.0:
        return
    last_sound = time.monotonic() - rec.silent_since()
    print(f"  Pause: the sound stopped {(last_sound - paused) * 1000:.0f} ms after it")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    exe, session = sys.argv[1], sys.argv[2]
    presses = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    press_at = [float(x) for x in os.environ.get("PRESS_AT", "0.3 1 2").split()]
    sink = os.environ.get("SINK", "stemdeck_test")
    scratch = tempfile.mkdtemp(prefix="first-sound-")
    rec = Recorder(f"{sink}.monitor")
    time.sleep(0.5)
    open_runs = int(os.environ.get("OPEN_RUNS", "3"))
    cold, warm = [], []
    drawn = {"cold, opened only": [], "warm, opened only": [], "cold, Play pressed": [],
             "warm, Play pressed": []}
    try:
        for i, at in enumerate(press_at):
            cache = os.path.join(scratch, f"cache{i}")
            app = App(exe, session, cache)
            time.sleep(max(0.0, app.started + app.window_at + at - time.monotonic()))
            t = press_play(app, rec, f"cold, Play {at:g} s after the window")
            if t is not None:
                cold.append(t)
            if i == 0:
                time.sleep(1.0)
                print(f"  PulseAudio, the app's stream: {sink_input_latency()}")
            pause(app, rec)
            # Let the overviews finish (so the next launch finds them cached).
            t = app.waveforms(f"cold, Play pressed {at:g} s after the window")
            if t is not None:
                drawn["cold, Play pressed"].append(t)
            app.close()
        app = App(exe, session, cache)
        try:
            time.sleep(max(0.0, app.started + app.window_at + press_at[0] - time.monotonic()))
            for k in range(presses):
                label = f"warm, Play {press_at[0]:g} s after the window" if k == 0 \
                    else f"warm, Play again ({k + 1})"
                t = press_play(app, rec, label)
                if t is not None:
                    warm.append(t)
                pause(app, rec)
            t = app.waveforms("warm, Play pressed")
            if t is not None:
                drawn["warm, Play pressed"].append(t)
        finally:
            app.close()
        # The overviews alone: open, wait until every one is drawn, close. (After the
        # Play launches, so the first of those still finds the sink as it was.)
        for i in range(open_runs + 1):
            kind = "cold, opened only" if i < open_runs else "warm, opened only"
            # The warm launch finds the cache the last cold one filled.
            cache = os.path.join(scratch, f"open{min(i, open_runs - 1)}")
            app = App(exe, session, cache)
            t = app.waveforms(kind)
            if t is not None:
                drawn[kind].append(t)
            app.close()
        for name, r in (("cold launches", cold), ("warm", warm)):
            if r:
                s = sorted(r)
                print(f"first sound after Play, {name}: median {s[len(s) // 2] * 1000:.0f} ms, "
                      f"max {s[-1] * 1000:.0f} ms over {len(s)} presses")
        for name, r in drawn.items():
            if r:
                s = sorted(r)
                print(f"every waveform drawn, {name}: median {s[len(s) // 2]:.2f} s, "
                      f"max {s[-1]:.2f} s over {len(s)} launches")
    finally:
        rec.close()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
