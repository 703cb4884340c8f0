// cucumber-js profiles. `kubeproof run` loads these and adds the cluster, run id and report
// paths itself; running `npx cucumber-js` directly works too against $KUBECONFIG's context
// (see README), without kubeproof's cluster management and reports.
const common = {
  import: ['dist/steps/index.js'],
  strict: true,
};

export default { ...common };

/** Nightly CI: fail fast is off, every scenario runs and is reported. */
export const ci = { ...common, retry: 0 };
