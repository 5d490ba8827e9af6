//! The effects panel: the insert chain of one track, one stem or the master, opened
//! from its "FX" button. Effects are added, removed, moved, bypassed and edited here;
//! the cards' parameters are drawn by `effect_params_ui` (sliders and typed values) and
//! `eq_ui` (an EQ curve with draggable band handles).
//!
//! Widgets edit the session in place like every other part of the window, so a slider
//! drag or a typed value is one undo step (`Document::checkpoint`), and the engine
//! hears it through the usual `Engine::set_mix` sync after the frame. Every range the
//! parameter widgets offer lies inside what `Effect::problem` accepts, so the UI never
//! writes a value the session check would refuse; values outside the UI's range that a
//! file holds are shown as they are, never clamped just by being displayed.

use egui::{Color32, Stroke, vec2};
use stemdeck_session::effects::{
    BandShape, Compressor, Delay, Effect, EffectKind, Eq, Limiter, Reverb,
};

use crate::app::StemdeckApp;
use crate::effect_params_ui::{compressor_ui, delay_ui, limiter_ui, reverb_ui};
use crate::eq_ui::{band, eq_ui};
use crate::state::ChainOwner;

/// A new effect of each kind, with the model's defaults. A new EQ starts with three
/// flat bands (low shelf, peak, high shelf): transparent until a band is moved, and
/// something to grab on the curve.
pub fn new_effect(kind: usize) -> Option<Effect> {
    let k = match kind {
        0 => EffectKind::Eq(Eq {
            bands: vec![
                band(BandShape::Lowshelf, 100.0),
                band(BandShape::Peak, 1000.0),
                band(BandShape::Highshelf, 8000.0),
            ],
        }),
        1 => EffectKind::Compressor(Compressor::default()),
        2 => EffectKind::Limiter(Limiter::default()),
        3 => EffectKind::Delay(Delay::default()),
        4 => EffectKind::Reverb(Reverb::default()),
        _ => return None,
    };
    Some(Effect::new(k))
}

/// The kinds in the "Add" menu, in `new_effect`'s order.
pub const KIND_LABELS: [&str; 5] = ["EQ", "Compressor", "Limiter", "Delay", "Reverb"];

/// A small button that shows an effects chain: "FX" when empty, "FX 2" with two
/// effects (lit), amber when any is bypassed; its tooltip lists the chain.
pub fn fx_button_ui(
    ui: &mut egui::Ui,
    chain: &[Effect],
    owner: &str,
    open: bool,
) -> egui::Response {
    let bypassed = chain.iter().filter(|e| e.bypass).count();
    let text = if chain.is_empty() {
        "FX".to_owned()
    } else {
        format!("FX {}", chain.len())
    };
    let (fill, color) = if chain.is_empty() {
        (
            ui.visuals().widgets.inactive.weak_bg_fill,
            ui.visuals().text_color(),
        )
    } else if bypassed > 0 {
        (Color32::from_rgb(170, 120, 40), Color32::BLACK)
    } else {
        (Color32::from_rgb(90, 160, 230), Color32::BLACK)
    };
    let r = ui.add(
        egui::Button::new(egui::RichText::new(text).color(color).strong())
            .fill(fill)
            .selected(open)
            .min_size(vec2(26.0, 20.0)),
    );
    let list = if chain.is_empty() {
        "no effects".to_owned()
    } else {
        chain
            .iter()
            .map(|e| {
                if e.bypass {
                    format!("{} (bypassed)", e.kind.label())
                } else {
                    e.kind.label().to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let name = format!("Effects on {owner}");
    let value = list.clone();
    r.widget_info(|| {
        let mut info = egui::WidgetInfo::selected(egui::Role::Button, true, open, &name);
        info.current_text_value = Some(value.clone());
        info
    });
    r.on_hover_text(format!("{owner}: {list}. Click to edit the effects"))
}

/// What a card asks its chain to do after the frame.
enum CardAction {
    Remove(usize),
    Move(usize, usize),
}

impl StemdeckApp {
    /// Open `owner`'s chain in the effects panel, or close the panel if it shows it.
    pub(crate) fn toggle_chain(&mut self, owner: ChainOwner) {
        if self.show_effects && self.fx_owner == owner {
            self.show_effects = false;
        } else {
            self.fx_owner = owner;
            self.show_effects = true;
        }
    }

    /// The effects panel (a bottom panel, like a DAW's device chain).
    pub(crate) fn effects_panel_ui(&mut self, ui: &mut egui::Ui) {
        if !self.show_effects {
            return;
        }
        let Some(doc) = self.doc.as_mut() else { return };
        // A track or stem that is gone (deleted, undone) shows the master instead.
        if self.fx_owner.chain(&doc.session).is_none() {
            self.fx_owner = ChainOwner::Master;
        }
        let owner = self.fx_owner;
        let mut close = false;
        egui::Panel::bottom("effects")
            .resizable(true)
            .default_size(300.0)
            .min_size(160.0)
            .show(ui, |ui| {
                let rate = doc.session.sample_rate;
                let name = owner.name(&doc.session).unwrap_or_default();
                ui.horizontal(|ui| {
                    ui.heading(format!("Effects — {name}"));
                    let mut add = None;
                    ui.menu_button("Add effect", |ui| {
                        for (k, label) in KIND_LABELS.iter().enumerate() {
                            if ui.button(format!("Add {label}")).clicked() {
                                add = Some(k);
                            }
                        }
                    })
                    .response
                    .on_hover_text("Add an effect at the end of the chain");
                    if let Some(effect) = add.and_then(new_effect) {
                        doc.edit(|s| {
                            if let Some(chain) = owner.chain_mut(s) {
                                chain.push(effect);
                            }
                        });
                    }
                    if owner == ChainOwner::Master {
                        ui.weak(
                            "Compressor and limiter follow the full mix and act on every \
                             stem alike, so the stems still add up to the master.",
                        );
                    } else {
                        ui.weak("Processed in order, left to right.");
                    }
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                        if ui
                            .button("×")
                            .accessible_name("Close effects")
                            .on_hover_text("Close the effects panel")
                            .clicked()
                        {
                            close = true;
                        }
                    });
                });
                ui.separator();
                let mut action = None;
                // Both ways: a long chain runs off to the right, an EQ with eight
                // bands off the bottom of a short panel.
                egui::ScrollArea::both()
                    .auto_shrink([false, false])
                    .show(ui, |ui| {
                        ui.horizontal_top(|ui| {
                            let Some(chain) = owner.chain_mut(&mut doc.session) else {
                                return;
                            };
                            if chain.is_empty() {
                                ui.weak("No effects yet: use Add effect (EQ, Compressor, Limiter, Delay or Reverb).");
                            }
                            let n = chain.len();
                            for (i, effect) in chain.iter_mut().enumerate() {
                                if let Some(a) = effect_card_ui(ui, effect, i, n, rate) {
                                    action = Some(a);
                                }
                            }
                        });
                    });
                if let Some(a) = action {
                    doc.edit(|s| {
                        let Some(chain) = owner.chain_mut(s) else { return };
                        match a {
                            CardAction::Remove(i) if i < chain.len() => {
                                chain.remove(i);
                            }
                            CardAction::Move(from, to) if from < chain.len() && to < chain.len() => {
                                chain.swap(from, to);
                            }
                            _ => {}
                        }
                    });
                }
            });
        if close {
            self.show_effects = false;
        }
    }
}

/// One effect: its header (name, bypass, move, remove) and its parameters.
fn effect_card_ui(
    ui: &mut egui::Ui,
    effect: &mut Effect,
    i: usize,
    n: usize,
    rate: u32,
) -> Option<CardAction> {
    let label = effect.kind.label();
    let tag = format!("{label} {}", i + 1);
    let mut action = None;
    let stroke = if effect.bypass {
        Stroke::new(1.0, Color32::from_gray(70))
    } else {
        Stroke::new(1.0, Color32::from_rgb(90, 160, 230))
    };
    egui::Frame::new()
        .stroke(stroke)
        .fill(ui.visuals().faint_bg_color)
        .corner_radius(4.0)
        .inner_margin(6.0)
        .show(ui, |ui| {
            ui.vertical(|ui| {
                ui.horizontal(|ui| {
                    ui.label(egui::RichText::new(format!("{}. {label}", i + 1)).strong());
                    let on = !effect.bypass;
                    let r = ui
                        .add(egui::Button::new(if on { "On" } else { "Bypassed" }).selected(on))
                        .on_hover_text("Bypass: hear it without this effect");
                    if r.clicked() {
                        effect.bypass = !effect.bypass;
                    }
                    let name = format!("Bypass {tag}");
                    let bypass = effect.bypass;
                    r.widget_info(|| {
                        egui::WidgetInfo::selected(egui::Role::Button, true, bypass, &name)
                    });
                    if ui
                        .add_enabled(i > 0, egui::Button::new("<").small())
                        .accessible_name(format!("Move {tag} earlier"))
                        .on_hover_text("Earlier in the chain")
                        .clicked()
                    {
                        action = Some(CardAction::Move(i, i - 1));
                    }
                    if ui
                        .add_enabled(i + 1 < n, egui::Button::new(">").small())
                        .accessible_name(format!("Move {tag} later"))
                        .on_hover_text("Later in the chain")
                        .clicked()
                    {
                        action = Some(CardAction::Move(i, i + 1));
                    }
                    if ui
                        .small_button("×")
                        .accessible_name(format!("Remove {tag}"))
                        .on_hover_text("Remove this effect")
                        .clicked()
                    {
                        action = Some(CardAction::Remove(i));
                    }
                });
                let bypass = effect.bypass;
                ui.scope(|ui| {
                    if bypass {
                        ui.multiply_opacity(0.55);
                    }
                    match &mut effect.kind {
                        EffectKind::Eq(eq) => eq_ui(ui, eq, bypass, rate, &tag),
                        EffectKind::Compressor(c) => compressor_ui(ui, c, &tag),
                        EffectKind::Limiter(l) => limiter_ui(ui, l, &tag),
                        EffectKind::Delay(d) => delay_ui(ui, d, &tag),
                        EffectKind::Reverb(r) => reverb_ui(ui, r, &tag),
                    }
                });
            });
        });
    action
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_effects_pass_the_session_check_and_a_new_eq_is_flat() {
        for (k, label) in KIND_LABELS.iter().enumerate() {
            let e = new_effect(k).unwrap();
            assert_eq!(e.kind.label(), *label);
            assert!(e.problem().is_none(), "{:?}", e.problem());
        }
        let Some(Effect {
            kind: EffectKind::Eq(eq),
            ..
        }) = new_effect(0)
        else {
            panic!("not an eq")
        };
        for hz in [20.0, 100.0, 1000.0, 15_000.0] {
            let db = stemdeck_effects::eq::response_db(&eq.bands, 48_000.0, hz);
            assert!(db.abs() < 1e-6, "{hz} Hz: {db} dB");
        }
        assert!(new_effect(5).is_none());
    }
}
