/**
 * The real time a test that runs whole simulations may take. A simulation runs
 * on virtual time and throws SimulationStalledError when it cannot go on, so
 * this bounds only how much CPU the test gets: ava's own limit (60 s in which no
 * test of the file ends) is too short when a file's simulations share a loaded
 * machine (two CPU-burning processes beside the suite, or other sessions).
 */
export const SIMULATION_LIMIT = 300_000
