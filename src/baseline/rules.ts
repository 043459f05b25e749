// The regression rules live with the target profile's schema (src/config/baseline-rules.ts), which
// embeds them; the comparison reads them from here.
export { BaselineRulesSchema, type BaselineRules, type BaselineRulesInput } from '../config/baseline-rules.ts';
