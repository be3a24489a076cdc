"""Statistics layer of the investigator's toolset: numpy arrays in, typed results out.

Pure functions over arrays (numpy/scipy); nothing here knows about files, git, DuckDB
or the workspace. Modules: `prevalence` (rates per step bin, concentration), `traces` (compare
two traces: lag, scale, onset alignment), `onset` (change points), `pressure` (Price-equation
selection pressure per reward component, counterfactual), `regression` (recover reward weights),
`contrast` (reward with vs without the behaviour), `enrichment` (lift, Fisher, FDR), `ngrams`
(emerging n-grams by log-odds with an informative Dirichlet prior).
"""
