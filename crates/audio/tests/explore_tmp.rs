mod common;
use common::*;
#[test]
fn explore() {
    let mut names: Vec<_> = std::fs::read_dir(fixtures_dir()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    for n in names {
        if n.contains("3ch") { continue; }
        let p = fixture(&n);
        let r = ffmpeg_decode(&p);
        let (info, a) = match std::panic::catch_unwind(|| stemdeck_decode(&p, 1001)) { Ok(x) => x, Err(_) => { println!("{n}: PANIC"); continue; } };
        let lag = best_lag(&a.channels[0], &r.channels[0], 3000);
        let mut md = 0f32; let mut cor = 1f64;
        for c in 0..a.channels.len().min(r.channels.len()) {
            md = md.max(max_abs_diff(&a.channels[c], &r.channels[c], lag));
            cor = cor.min(correlation(&a.channels[c], &r.channels[c], lag));
        }
        let clicks = click_frames(info.sample_rate);
        let cp: Vec<_> = a.channels.iter().map(|c| click_position(c)).collect();
        let rp: Vec<_> = r.channels.iter().map(|c| click_position(c)).collect();
        println!("{n}: {} {} rate {} ch {} bits {:?} | ours {} ref {} (diff {}) lag {lag} maxdiff {md:e} corr {cor:.9} clicks exp {clicks:?} ours {cp:?} ref {rp:?}",
            info.container, info.codec, info.sample_rate, info.channels, info.bits_per_sample, a.frames(), r.frames(), a.frames() as i64 - r.frames() as i64);
    }
}
