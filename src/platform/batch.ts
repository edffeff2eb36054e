/** The most items one batch call carries (the built-in platform's limit, and the ceiling of --batch-size). */
export const MAX_BATCH = 1000;
