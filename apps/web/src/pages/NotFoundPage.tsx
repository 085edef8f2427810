import { Link } from "react-router";
import { PageTitle } from "../components/ui.tsx";

export function NotFoundPage() {
  return (
    <>
      <PageTitle>Page not found</PageTitle>
      <Link to="/" className="text-blue-800 underline">
        Back to the robots
      </Link>
    </>
  );
}
