// `ocx exec review`, loaded by exec only when a review runs.
export { reviewPrompt, type ReviewTarget } from "./target.ts";
export { REVIEW_INSTRUCTIONS } from "./instructions.ts";
export { formatReviewAnswer } from "./format.ts";
