// Written by bench/match-fit.ts (987 labelled cases, 5-fold grouped cross-validation). Do not edit by hand.
// Feature order: see CHOICE_FEATURES and CONFIDENCE_FEATURES in model.ts.
// Cross-validated (held-out) figures: {"dev":{"cases":788,"top1":0.9467,"season1":0.9492,"autoPrecision":0.9911,"coverage":0.7107,"wrongAuto":5},"season":{"cases":199,"top1":0.9899,"season1":0.9896,"autoPrecision":1,"coverage":0.9296,"wrongAuto":0}}
export const CHOICE_WEIGHTS = [9.5959, 2.5242, 2.533, 1.2915, 2.423, 2.5748, 5.2509, 0.5648, 0] as const;
export const CONFIDENCE_WEIGHTS = [-0.6811, 0.6571, 0.1215, 1.977, -1.5438, -0.063] as const;
/** Lowest confidence at which the training cases' auto-accepted precision reaches 0.995. */
export const AUTO_ACCEPT_THRESHOLD = 0.988;
