// Written by bench/match-fit.ts (987 labelled cases, 5-fold grouped cross-validation). Do not edit by hand.
// Feature order: see CHOICE_FEATURES and CONFIDENCE_FEATURES in model.ts.
// Cross-validated (held-out) figures: {"dev":{"cases":788,"top1":0.9543,"season1":0.9534,"autoPrecision":0.9885,"coverage":0.8858,"wrongAuto":8},"season":{"cases":199,"top1":1,"season1":1,"autoPrecision":1,"coverage":1,"wrongAuto":0}}
export const CHOICE_WEIGHTS = [6.1268, 2.5314, 2.8171, 1.5099, 0.8383, 2.7507, 2.9958, 4.9199, 0.4239, 0, 4.2876, 0, 0, 0, 0, 0, 0, 0] as const;
export const CONFIDENCE_WEIGHTS = [0.1773, 0.6455, 0.1844, 1.3679, -1.5307, 0.9232, 0.7538] as const;
/** Operating point coverage:0.89 on the training cases (see bench/match-fit.ts). */
export const AUTO_ACCEPT_THRESHOLD = 0.913;
