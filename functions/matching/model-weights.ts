// Written by bench/match-fit.ts (987 labelled cases, 5-fold grouped cross-validation). Do not edit by hand.
// Feature order: see CHOICE_FEATURES and CONFIDENCE_FEATURES in model.ts.
// Cross-validated (held-out) figures: {"dev":{"cases":788,"top1":0.9492,"season1":0.9506,"autoPrecision":0.9815,"coverage":0.8934,"wrongAuto":13},"season":{"cases":199,"top1":1,"season1":1,"autoPrecision":1,"coverage":1,"wrongAuto":0}}
export const CHOICE_WEIGHTS = [9.8881, 2.4177, 2.684, 1.3375, 0.7935, 3.4038, 2.5961, 4.9066, 0.5472, 0] as const;
export const CONFIDENCE_WEIGHTS = [-0.5306, 0.6487, 0.3401, 1.9325, -1.4862, 0.0437, 1.0805] as const;
/** Operating point coverage:0.89 on the training cases (see bench/match-fit.ts). */
export const AUTO_ACCEPT_THRESHOLD = 0.905;
