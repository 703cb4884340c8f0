/**
 * Per-scenario state owned by the module that needs it (a fault's victims, a probe's
 * figures): the module declares a slot, the scenario holds its value, so a new fault adds a
 * slot of its own instead of a field of Scenario.
 */
export class Slot<T> {
  constructor(
    readonly name: string,
    readonly initial: () => T,
  ) {}
}
