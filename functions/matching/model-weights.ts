// Written by bench/match-fit.ts (dev, season and built-fit cases; 5-fold grouped cross-validation; confidence on out-of-fold choices). Do not edit by hand.
// Feature order: see CHOICE_FEATURES and CONFIDENCE_FEATURES in model.ts.
// Cross-validated figures: {"dev":{"cases":788,"top1":0.953,"season1":0.9534,"autoPrecision":0.9865,"coverage":0.8452,"wrongAuto":9,"franchiseTop1":0.9683,"franchiseAutoPrecision":0.994},"season":{"cases":199,"top1":0.995,"season1":0.9948,"autoPrecision":1,"coverage":0.9799,"wrongAuto":0,"franchiseTop1":1,"franchiseAutoPrecision":1},"built":{"cases":1911,"top1":0.9937,"season1":0.9929,"autoPrecision":0.9984,"coverage":0.9859,"wrongAuto":3,"franchiseTop1":0.999,"franchiseAutoPrecision":1}}
// Held-out split of the built season cases (never fitted on): {"cases":833,"top1":0.9952,"season1":0.9946,"autoPrecision":0.9988,"coverage":0.9904,"wrongAuto":1,"franchiseTop1":0.9988,"franchiseAutoPrecision":0.9988}
export const CHOICE_WEIGHTS = [1.3535, 2.2173, 2.0461, 1.5709, 0.8708, 1.7514, 2.3417, 2.6162, 0.4621, 0, 2.3571, 6.4395, -0.4632, 0.5654, 0.5938, 1.06, 1.6917, 2.4184, 8.0392, 0.7654] as const;
export const CONFIDENCE_WEIGHTS = [1.1059, 0.9043, 0.0635, 0.2393, -1.3598, -0.8279, 1.4177, -0.1077, 2.7717, 0.5518, 0.0208] as const;
/** Operating point precision:0.999 (season-level) and 0.995 (dev, franchise) on out-of-fold choices (see bench/match-fit.ts). */
export const AUTO_ACCEPT_THRESHOLD = 0.907;
