// An action's or a load's error, read out by screen readers as it appears (role="alert"); nothing
// when there is none. Every page shows its errors through it.
export function Alert({ message }: { message: string | null | undefined }) {
  return message ? (
    <p class="error" role="alert">
      {message}
    </p>
  ) : null;
}
