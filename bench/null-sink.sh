# Sourced by the benchmarks that play through a real audio stack (engine-device.sh,
# first-sound.sh, soak.sh): PulseAudio running, started here when it is not, with a
# 48 kHz stereo null sink $SINK (default stemdeck_test) as the default device, which
# cpal's default ALSA device plays into. `null_sink_stop` stops the server again, only
# if it was started here. Needs pulseaudio and pulseaudio-utils (scripts/setup.sh).
SINK="${SINK:-stemdeck_test}"
NULL_SINK_STARTED=""
if ! pactl info >/dev/null 2>&1; then
    pulseaudio --daemonize=yes --exit-idle-time=-1 -n --load=module-native-protocol-unix
    NULL_SINK_STARTED=1
    for _ in $(seq 50); do pactl info >/dev/null 2>&1 && break; sleep 0.1; done
fi
pactl list short sinks | grep -q "$SINK" ||
    pactl load-module module-null-sink sink_name="$SINK" rate=48000 channels=2 >/dev/null
pactl set-default-sink "$SINK"

null_sink_stop() {
    if [[ -n $NULL_SINK_STARTED ]]; then pulseaudio -k 2>/dev/null || true; fi
}
