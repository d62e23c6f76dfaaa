// Words a reader sees for a span's kind of step: the normalized categories, with no
// OpenTelemetry jargon ("unknown" is a plain step of the user's code, e.g. an @trace function).
const CATEGORY_WORDS = { unknown: "step" };

export function categoryLabel(category) {
  return CATEGORY_WORDS[category] || category || "step";
}
