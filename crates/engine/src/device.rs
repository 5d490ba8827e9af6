//! The audio device side: a cpal output stream driving the [`Processor`].
//!
//! - Any sample format the device offers (f32, i16, i32, 24-bit …) via cpal's
//!   conversions; a configuration at the session rate is preferred, and when the device
//!   cannot run at it, [`DeviceRender`] converts in the callback with a preallocated
//!   rubato resampler.
//! - A device that disappears is reported, and [`Output::poll`] rebuilds the stream
//!   about once a second until it is back. The processor survives: cpal drops our
//!   callback closure with the stream, and the closure hands the processor back then.
//! - Xruns are counted from the error callback, never printed from it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use audioadapter_buffers::direct::SequentialSliceOfVecs;
use cpal::traits::{DeviceTrait as _, HostTrait as _, StreamTrait as _};
use cpal::{FromSample, SampleFormat, SizedSample};
use rubato::{Fft, FixedSync, Resampler as _};

use crate::EngineError;
use crate::feedback::Feedback;
use crate::processor::Processor;

/// Session-rate frames rendered per resampler call when the device runs at another rate.
const CONVERT_CHUNK: usize = 256;
/// Largest piece of a device buffer processed at once.
const SCRATCH_FRAMES: usize = 4096;
/// How often a lost device is looked for again.
const RETRY: Duration = Duration::from_secs(1);
/// A running stream that has not called back for this long is treated as lost.
const STALL: Duration = Duration::from_secs(2);

/// The processor plus, when the device rate differs, the conversion to it. Everything
/// is allocated in [`DeviceRender::new`]; [`DeviceRender::render`] allocates nothing.
pub struct DeviceRender {
    processor: Processor,
    conv: Option<Convert>,
}

struct Convert {
    resampler: Fft<f32>,
    interleaved: Vec<f32>,
    input: Vec<Vec<f32>>,
    output: Vec<Vec<f32>>,
    out_pos: usize,
    out_len: usize,
}

impl DeviceRender {
    pub fn new(
        processor: Processor,
        session_rate: u32,
        device_rate: u32,
    ) -> Result<Self, EngineError> {
        let conv = if session_rate == device_rate {
            None
        } else {
            let resampler = Fft::<f32>::new(
                session_rate as usize,
                device_rate as usize,
                CONVERT_CHUNK,
                2,
                FixedSync::Input,
            )
            .map_err(|e| {
                EngineError::Device(format!(
                    "cannot convert {session_rate} Hz to {device_rate} Hz: {e}"
                ))
            })?;
            let out_max = resampler.output_frames_max();
            Some(Convert {
                resampler,
                interleaved: vec![0.0; CONVERT_CHUNK * 2],
                input: vec![vec![0.0; CONVERT_CHUNK]; 2],
                output: vec![vec![0.0; out_max]; 2],
                out_pos: 0,
                out_len: 0,
            })
        };
        Ok(Self { processor, conv })
    }

    pub fn into_processor(self) -> Processor {
        self.processor
    }

    /// Fill an interleaved buffer of `channels` channels at the device rate.
    pub fn render(&mut self, out: &mut [f32], channels: usize) {
        let channels = channels.max(1);
        let Some(c) = self.conv.as_mut() else {
            self.processor.process(out, channels);
            return;
        };
        for frame in out.chunks_exact_mut(channels) {
            if c.out_pos >= c.out_len {
                self.processor.process(&mut c.interleaved, 2);
                if let [l, r] = c.input.as_mut_slice() {
                    for ((pair, l), r) in c
                        .interleaved
                        .chunks_exact(2)
                        .zip(l.iter_mut())
                        .zip(r.iter_mut())
                    {
                        *l = pair.first().copied().unwrap_or(0.0);
                        *r = pair.get(1).copied().unwrap_or(0.0);
                    }
                }
                let out_frames = c.output.first().map_or(0, Vec::len);
                let produced = match (
                    SequentialSliceOfVecs::new(&c.input, 2, CONVERT_CHUNK),
                    SequentialSliceOfVecs::new_mut(&mut c.output, 2, out_frames),
                ) {
                    (Ok(i), Ok(mut o)) => c
                        .resampler
                        .process_into_buffer(&i, &mut o, None)
                        .map_or(0, |(_, n)| n),
                    _ => 0,
                };
                c.out_pos = 0;
                c.out_len = produced;
                if produced == 0 {
                    frame.fill(0.0);
                    continue;
                }
            }
            let l = c
                .output
                .first()
                .and_then(|v| v.get(c.out_pos))
                .copied()
                .unwrap_or(0.0);
            let r = c
                .output
                .get(1)
                .and_then(|v| v.get(c.out_pos))
                .copied()
                .unwrap_or(0.0);
            c.out_pos += 1;
            match frame {
                [mono] => *mono = 0.5 * (l + r),
                [a, b, rest @ ..] => {
                    *a = l;
                    *b = r;
                    rest.fill(0.0);
                }
                [] => {}
            }
        }
    }
}

/// Hands the processor back when cpal drops our callback (stream dropped or failed).
struct ReturnOnDrop {
    render: Option<DeviceRender>,
    home: Sender<Processor>,
}

impl Drop for ReturnOnDrop {
    fn drop(&mut self) {
        if let Some(r) = self.render.take() {
            self.home.send(r.into_processor()).ok();
        }
    }
}

/// What [`Output::poll`] noticed.
pub(crate) enum Health {
    Lost(String),
    Restored,
}

const LOST_NONE: u8 = 0;
const LOST_GONE: u8 = 1;
const LOST_INVALID: u8 = 2;
const LOST_OTHER: u8 = 3;
const LOST_BUSY: u8 = 4;

/// A running (or recovering) output stream.
pub struct Output {
    stream: Option<cpal::Stream>,
    home: Receiver<Processor>,
    home_tx: Sender<Processor>,
    idle: Option<Processor>,
    lost: Arc<AtomicU8>,
    device: Option<String>,
    session_rate: u32,
    feedback: Arc<Feedback>,
    retry_at: Instant,
    description: String,
    /// Callback count and when it last moved, to notice a stream that stopped.
    last_callbacks: (u64, Instant),
}

impl Output {
    /// Start `processor` on the named device (or the default one). When that fails the
    /// output is still returned, idle, with the error: [`Output::poll`] keeps trying.
    pub fn start(
        processor: Processor,
        device: Option<&str>,
        session_rate: u32,
        feedback: Arc<Feedback>,
    ) -> (Output, Option<EngineError>) {
        let (home_tx, home) = channel();
        let mut out = Output {
            stream: None,
            home,
            home_tx,
            idle: Some(processor),
            lost: Arc::new(AtomicU8::new(LOST_NONE)),
            device: device.map(str::to_owned),
            session_rate,
            feedback,
            retry_at: Instant::now() + RETRY,
            description: String::new(),
            last_callbacks: (0, Instant::now()),
        };
        match out.build() {
            Ok(()) => (out, None),
            Err(e) => {
                out.stream = None;
                if out.idle.is_none() {
                    out.idle = out.home.recv_timeout(Duration::from_millis(500)).ok();
                }
                (out, Some(e))
            }
        }
    }

    /// The device and configuration in use, e.g. "default (48000 Hz, 2 ch, f32)".
    pub fn description(&self) -> &str {
        &self.description
    }

    pub(crate) fn reclaim(&mut self) -> Option<Processor> {
        self.stream = None;
        if self.idle.is_none() {
            self.idle = self.home.recv_timeout(Duration::from_millis(500)).ok();
        }
        self.idle.take()
    }

    pub(crate) fn take_processor(&mut self) -> Option<Processor> {
        self.reclaim()
    }

    fn build(&mut self) -> Result<(), EngineError> {
        let Some(processor) = self.idle.take() else {
            return Err(EngineError::Device("no processor".into()));
        };
        let home = self.home_tx.clone();
        // From here on the processor travels inside `slot` and comes home on any failure.
        let mut slot = ReturnOnDrop { render: None, home };
        let host = cpal::default_host();
        let device = match &self.device {
            None => host.default_output_device().ok_or(EngineError::NoDevice),
            Some(name) => {
                find_device(&host, name).ok_or_else(|| EngineError::DeviceNotFound(name.clone()))
            }
        };
        let device = match device {
            Ok(d) => d,
            Err(e) => {
                slot.render =
                    DeviceRender::new(processor, self.session_rate, self.session_rate).ok();
                return Err(e);
            }
        };
        let config = match pick_config(&device, self.session_rate) {
            Ok(c) => c,
            Err(e) => {
                slot.render =
                    DeviceRender::new(processor, self.session_rate, self.session_rate).ok();
                return Err(e);
            }
        };
        let rate = config.sample_rate();
        let format = config.sample_format();
        let channels = config.channels();
        let render = DeviceRender::new(processor, self.session_rate, rate)?;
        slot.render = Some(render);
        self.lost.store(LOST_NONE, Ordering::Relaxed);
        self.feedback.output_latency_us.store(0, Ordering::Relaxed);
        let stream_config: cpal::StreamConfig = config.into();
        let result = match format {
            SampleFormat::F32 => self.build_typed::<f32>(&device, stream_config, slot),
            SampleFormat::F64 => self.build_typed::<f64>(&device, stream_config, slot),
            SampleFormat::I16 => self.build_typed::<i16>(&device, stream_config, slot),
            SampleFormat::I24 => self.build_typed::<cpal::I24>(&device, stream_config, slot),
            SampleFormat::I32 => self.build_typed::<i32>(&device, stream_config, slot),
            SampleFormat::U8 => self.build_typed::<u8>(&device, stream_config, slot),
            SampleFormat::U16 => self.build_typed::<u16>(&device, stream_config, slot),
            SampleFormat::U32 => self.build_typed::<u32>(&device, stream_config, slot),
            SampleFormat::I8 => self.build_typed::<i8>(&device, stream_config, slot),
            other => Err(EngineError::Device(format!(
                "unsupported sample format {other}"
            ))),
        };
        let name = device
            .description()
            .map(|d| d.name().to_owned())
            .unwrap_or_else(|_| "output".into());
        self.description = format!("{name} ({rate} Hz, {channels} ch, {format})");
        self.feedback
            .device_ok
            .store(result.is_ok(), Ordering::Relaxed);
        result
    }

    fn build_typed<T>(
        &mut self,
        device: &cpal::Device,
        config: cpal::StreamConfig,
        mut slot: ReturnOnDrop,
    ) -> Result<(), EngineError>
    where
        T: SizedSample + FromSample<f32>,
    {
        let channels = usize::from(config.channels).max(1);
        let mut scratch = vec![0.0f32; SCRATCH_FRAMES * channels];
        let feedback = Arc::clone(&self.feedback);
        let shown = Arc::clone(&self.feedback);
        let lost = Arc::clone(&self.lost);
        let data_cb = move |data: &mut [T], info: &cpal::OutputCallbackInfo| {
            // What the device says it will take to play this buffer: the Diagnostics
            // window's output latency.
            let when = info.timestamp();
            let latency = when.playback.duration_since(when.callback).as_micros();
            shown.output_latency_us.store(
                u64::try_from(latency).unwrap_or(u64::MAX),
                Ordering::Relaxed,
            );
            let Some(render) = slot.render.as_mut() else {
                data.fill(T::EQUILIBRIUM);
                return;
            };
            for piece in data.chunks_mut(scratch.len().max(1)) {
                let s = scratch.get_mut(..piece.len()).unwrap_or_default();
                render.render(s, channels);
                for (d, x) in piece.iter_mut().zip(s.iter()) {
                    *d = T::from_sample(*x);
                }
            }
        };
        let err_cb = move |err: cpal::Error| match err.kind() {
            cpal::ErrorKind::Xrun => feedback.count_xrun(),
            cpal::ErrorKind::DeviceNotAvailable => lost.store(LOST_GONE, Ordering::Relaxed),
            cpal::ErrorKind::StreamInvalidated | cpal::ErrorKind::DeviceChanged => {
                lost.store(LOST_INVALID, Ordering::Relaxed)
            }
            cpal::ErrorKind::DeviceBusy => lost.store(LOST_BUSY, Ordering::Relaxed),
            // Transient backend errors are counted (not as xruns: the callbacks go on
            // and the audio is delivered); a stream that really died stops calling
            // back, which the stall check in `poll` notices.
            cpal::ErrorKind::BackendError => feedback.count_device_error(),
            _ => {}
        };
        let stream = device
            .build_output_stream(config, data_cb, err_cb, None)
            .map_err(|e| EngineError::Device(e.to_string()))?;
        stream
            .play()
            .map_err(|e| EngineError::Device(e.to_string()))?;
        self.stream = Some(stream);
        Ok(())
    }

    /// Notice a lost device and rebuild the stream when it is back.
    pub(crate) fn poll(&mut self) -> Option<Health> {
        let mut lost = self.lost.swap(LOST_NONE, Ordering::Relaxed);
        let callbacks = self.feedback.callbacks();
        if callbacks != self.last_callbacks.0 || self.stream.is_none() {
            self.last_callbacks = (callbacks, Instant::now());
        } else if self.last_callbacks.1.elapsed() > STALL {
            lost = LOST_OTHER;
            self.last_callbacks = (callbacks, Instant::now());
        }
        if lost != LOST_NONE && self.stream.is_some() {
            self.stream = None;
            self.feedback.device_ok.store(false, Ordering::Relaxed);
            self.idle = self.home.recv_timeout(Duration::from_millis(500)).ok();
            self.retry_at = Instant::now() + RETRY;
            let why = match lost {
                LOST_GONE => "the output device disappeared",
                LOST_INVALID => "the output device changed",
                LOST_BUSY => "the output device is busy",
                _ => "the output device stopped",
            };
            return Some(Health::Lost(format!(
                "{why}; playback resumes when it is back"
            )));
        }
        if self.stream.is_none() && Instant::now() >= self.retry_at {
            if self.idle.is_none() {
                self.idle = self.home.try_recv().ok();
            }
            if self.idle.is_some() {
                self.retry_at = Instant::now() + RETRY;
                if self.build().is_ok() {
                    return Some(Health::Restored);
                }
                self.idle = self.home.recv_timeout(Duration::from_millis(200)).ok();
            }
        }
        None
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        self.stream = None;
    }
}

fn find_device(host: &cpal::Host, name: &str) -> Option<cpal::Device> {
    let wanted = name.to_lowercase();
    host.output_devices().ok()?.find(|d| {
        let n = d
            .description()
            .map(|x| x.name().to_lowercase())
            .unwrap_or_default();
        let id = d
            .id()
            .map(|x| x.to_string().to_lowercase())
            .unwrap_or_default();
        n == wanted || id == wanted || id.ends_with(&format!(":{wanted}"))
    })
}

/// Prefer the session rate, stereo, then float, then deeper integers.
fn pick_config(
    device: &cpal::Device,
    rate: u32,
) -> Result<cpal::SupportedStreamConfig, EngineError> {
    let ranges: Vec<_> = device
        .supported_output_configs()
        .map_err(|e| EngineError::Device(e.to_string()))?
        .collect();
    let score = |r: &cpal::SupportedStreamConfigRange| {
        let fmt = match r.sample_format() {
            SampleFormat::F32 => 4,
            SampleFormat::I32 | SampleFormat::I24 => 3,
            SampleFormat::I16 => 2,
            _ => 1,
        };
        let ch = match r.channels() {
            2 => 3,
            c if c > 2 => 2,
            _ => 1,
        };
        (r.contains_rate(rate), ch, fmt)
    };
    let best = ranges.into_iter().max_by_key(score);
    match best {
        Some(r) if r.contains_rate(rate) => Ok(r.with_sample_rate(rate)),
        Some(_) | None => device
            .default_output_config()
            .map_err(|e| EngineError::Device(e.to_string())),
    }
}

/// Output devices as "name — id" lines, the default one first and marked.
pub fn list_devices() -> Result<Vec<String>, EngineError> {
    let host = cpal::default_host();
    let default_id = host
        .default_output_device()
        .and_then(|d| d.id().ok())
        .map(|i| i.to_string());
    let mut out = Vec::new();
    let devices = host
        .output_devices()
        .map_err(|e| EngineError::Device(e.to_string()))?;
    for d in devices {
        let name = d
            .description()
            .map(|x| x.name().to_owned())
            .unwrap_or_else(|_| "(unnamed)".into());
        let id = d.id().map(|i| i.to_string()).unwrap_or_default();
        let mark = if Some(&id) == default_id.as_ref() {
            " (default)"
        } else {
            ""
        };
        let line = format!("{name}{mark} — {id}");
        if mark.is_empty() {
            out.push(line)
        } else {
            out.insert(0, line)
        }
    }
    if out.is_empty() {
        return Err(EngineError::NoDevice);
    }
    Ok(out)
}
