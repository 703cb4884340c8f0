/**
 * A step needs something the cluster does not have (real containers, a way to stop a node,
 * simulated nodes). The scenario is reported "not applicable" with this reason — never passed.
 */
export class NotApplicable extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'NotApplicable';
  }
}
