import { Link } from '../lib/router';

export function NotFoundPage({ path }: { path: string }) {
  return (
    <section aria-labelledby="nf-title">
      <h1 id="nf-title">Page not found</h1>
      <p>
        Nothing lives at <code>{path}</code>. Go to the <Link to="/">fleet</Link>.
      </p>
    </section>
  );
}
