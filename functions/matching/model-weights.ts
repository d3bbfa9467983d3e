// Written by bench/match-fit.ts (dev, season and built-fit cases; 5-fold grouped cross-validation; confidence on out-of-fold choices). Do not edit by hand.
// Feature order: see CHOICE_FEATURES and CONFIDENCE_FEATURES in model.ts.
// Cross-validated figures: {"dev":{"cases":788,"top1":0.953,"season1":0.9534,"autoPrecision":0.9858,"coverage":0.8071,"wrongAuto":9,"franchiseTop1":0.9683,"franchiseAutoPrecision":0.9953},"season":{"cases":199,"top1":0.995,"season1":0.9948,"autoPrecision":1,"coverage":0.9749,"wrongAuto":0,"franchiseTop1":1,"franchiseAutoPrecision":1},"built":{"cases":1824,"top1":0.9929,"season1":0.9924,"autoPrecision":1,"coverage":0.9836,"wrongAuto":0,"franchiseTop1":0.9989,"franchiseAutoPrecision":1}}
// Held-out split of the built season cases (never fitted on): {"cases":796,"top1":0.995,"season1":0.9946,"autoPrecision":0.9987,"coverage":0.9899,"wrongAuto":1,"franchiseTop1":0.9987,"franchiseAutoPrecision":0.9987}
export const CHOICE_WEIGHTS = [1.359, 2.2162, 2.0436, 1.5653, 0.8359, 1.7485, 2.3625, 2.6885, 0.4623, 0, 2.3681, 6.4699, -0.4269, 0, 0.6008, 1.06, 1.6575, 2.3925, 8.1208, 1.0399] as const;
export const CONFIDENCE_WEIGHTS = [1.3167, 0.8703, -0.0249, 0.1331, -1.3199, -0.812, 1.559, -0.2961, 2.7993, 0.4766, 0.0705] as const;
/** Operating point precision:0.999 (season-level) and 0.995 (dev, franchise) on out-of-fold choices (see bench/match-fit.ts). */
export const AUTO_ACCEPT_THRESHOLD = 0.907;
