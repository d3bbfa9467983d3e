// Written by bench/match-fit.ts (987 labelled cases, 5-fold grouped cross-validation). Do not edit by hand.
// Feature order: see CHOICE_FEATURES and CONFIDENCE_FEATURES in model.ts.
// Cross-validated (held-out) figures: {"dev":{"cases":788,"top1":0.9492,"season1":0.9506,"autoPrecision":0.991,"coverage":0.7043,"wrongAuto":5},"season":{"cases":199,"top1":1,"season1":1,"autoPrecision":1,"coverage":0.9749,"wrongAuto":0}}
export const CHOICE_WEIGHTS = [9.8851, 2.421, 2.6837, 1.3364, 0.7929, 3.4037, 2.5975, 4.9063, 0.5427, 0] as const;
export const CONFIDENCE_WEIGHTS = [-0.522, 0.6596, 0.413, 1.7775, -1.4484, 0.0816, 1.0791] as const;
/** Lowest confidence at which the training cases' auto-accepted precision reaches 0.995. */
export const AUTO_ACCEPT_THRESHOLD = 0.987;
