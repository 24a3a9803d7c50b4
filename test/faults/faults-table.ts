/** The header of the fault table each fault test prints a row of. */
export const faultTableHeader =
  '| fault | injected | sent | accepted | refused cleanly | completed | ended with error | resumed | lost | duplicate finals | broken streams |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
